// `pifarm run --adapt`: when hosts are down, plan again for the devices still alive (the planner
// of topology "auto", on the inventory without the lost hosts), move the roles (new role configs
// pushed, changed units restarted, stray units stopped: deploy + start on the live hosts), say
// what moved and the new predicted IPS, and run on the new topology. A surviving host takes a
// lost role if it has a free slot and the memory (the planner's rules); otherwise the topology
// changes (fewer replicas, different cuts).
import type { Inventory } from '../inventory/types.js';
import { allOnControlMachine } from '../inventory/control-machine.js';
import { processName } from '../runtime/process-name.js';
import { deployHost, startHost } from '../provision/host.js';
import { evaluateTopology } from '../topology/cost-model.js';
import { costModelOf } from '../topology/plan.js';
import { planForInventory } from '../topology/plan-inventory.js';
import type { ResolvedFarm } from '../topology/types.js';
import type { FarmOptions } from './options.js';
import { planFarmFor, type FarmPlan } from './plan.js';
import { portAnswers } from './probe.js';
import { FarmError, runPhase } from './runner.js';
import { HostSession } from './session.js';

export interface Adaptation {
  /** the plan for the hosts still alive */
  plan: FarmPlan;
  down: string[];
  /** one line per host whose roles changed */
  moves: string[];
  stagesBefore: string;
  stagesAfter: string;
  predictedBefore: number;
  predictedAfter: number;
}

/** Hosts whose node ports all stay silent (powered off, off the network, units dead). */
export async function downHosts(plan: FarmPlan, timeoutMs = 2000): Promise<string[]> {
  const byHost = new Map<string, { address: string; ports: number[] }>();
  plan.farm.placements.forEach((p, i) => {
    const address = plan.inv.hosts.find((h) => h.name === p.host)?.address ?? plan.wiring.nodes[i]!.listen.host;
    const e = byHost.get(p.host) ?? { address, ports: [] };
    e.ports.push(p.port);
    byHost.set(p.host, e);
  });
  const checks = await Promise.all(
    [...byHost].map(async ([host, e]) => ({ host, alive: (await Promise.all(e.ports.map((port) => portAnswers(e.address, port, timeoutMs)))).some(Boolean) })),
  );
  return checks.filter((c) => !c.alive).map((c) => c.host);
}

/** The inventory without the lost hosts, planned by the planner ("auto"), no fixed assignment. */
export function survivingInventory(inv: Inventory, down: string[]): Inventory {
  if (down.includes(inv.farm.sender)) throw new FarmError(`the sender's host ${inv.farm.sender} is down: nothing to adapt to; bring it back or choose another sender in ${inv.file}`);
  const lost = new Set(down);
  const farm = { ...inv.farm, topology: 'auto' };
  delete farm.assignment;
  return {
    ...inv,
    hosts: inv.hosts.filter((h) => !lost.has(h.name)),
    groups: Object.fromEntries(Object.entries(inv.groups).map(([g, names]) => [g, names.filter((n) => !lost.has(n))])),
    farm,
  };
}


function rolesByHost(f: ResolvedFarm): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of f.placements) out.set(p.host, [...(out.get(p.host) ?? []), processName(p, f.stages[p.stageIndex]!.shards)]);
  return out;
}

/** One line per host whose roles changed: "pi-fc2: fc2.0 -> fc1.0.s1 + fc2.0", lost hosts marked. */
export function describeMoves(before: ResolvedFarm, after: ResolvedFarm, down: string[]): string[] {
  const a = rolesByHost(before);
  const b = rolesByHost(after);
  const hosts = [...new Set([...before.inventory.hosts.map((h) => h.name)])].filter((h) => a.has(h) || b.has(h));
  return hosts
    .filter((h) => (a.get(h) ?? []).join() !== (b.get(h) ?? []).join())
    .map((h) => `${h}${down.includes(h) ? ' (down)' : ''}: ${(a.get(h) ?? []).join(' + ') || '-'} -> ${(b.get(h) ?? []).join(' + ') || '-'}`);
}

const stagesText = (f: ResolvedFarm) => f.stages.map((s) => `${s.role} x${s.replicas}${s.shards > 1 ? ` (${s.shards} shards)` : ''}`).join(' -> ');

/** Plans for the hosts still alive; nothing is changed on the hosts yet. */
export async function adaptFarm(plan: FarmPlan, down: string[], o: FarmOptions): Promise<Adaptation> {
  const inv = survivingInventory(plan.inv, down);
  let evaluation;
  try {
    evaluation = planForInventory(inv).evaluation;
  } catch (e) {
    throw new FarmError(`--adapt: no topology fits the ${inv.hosts.length} host(s) still alive: ${(e as Error).message}`);
  }
  const next = await planFarmFor(inv, { ...o, inventoryFile: plan.inv.file });
  return {
    plan: next,
    down,
    moves: describeMoves(plan.farm, next.farm, down),
    stagesBefore: stagesText(plan.farm),
    stagesAfter: stagesText(next.farm),
    // the same cost model as the planner's for this inventory (shared medium unless all local)
    predictedBefore: evaluateTopology(plan.farm.model, plan.farm.stages, costModelOf({ model: plan.farm.model, sharedMedium: !allOnControlMachine(plan.inv.hosts) })).predictedIps,
    predictedAfter: evaluation.predictedIps,
  };
}

/** Moves the roles: deploy (configs, restarts of changed units, stray ones stopped) and start, on the live hosts. */
export async function applyAdaptation(a: Adaptation, o: FarmOptions): Promise<void> {
  const sessions = a.plan.hosts.map((h) => new HostSession(a.plan.inv, h, a.plan.plans.get(h.name)!, o));
  try {
    for (const [title, fn] of [['deploy', deployHost], ['start', startHost]] as const) {
      const runs = await runPhase(title, sessions, (_s, ctx) => fn(ctx), o);
      const failed = runs.filter((r) => r.failed);
      if (failed.length) throw new FarmError(`--adapt: ${title} failed on ${failed.map((r) => `${r.host} (${r.results.find((x) => x.status === 'failed')?.detail ?? 'failed'})`).join(', ')}`);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  }
}

export function describeAdaptation(a: Adaptation): string {
  return [
    `adapt: host(s) down: ${a.down.join(', ')}; re-planned for the ${a.plan.hosts.length} host(s) still alive`,
    `  topology: ${a.stagesBefore}  ->  ${a.stagesAfter}`,
    ...a.moves.map((m) => `  moved: ${m}`),
    `  predicted IPS: ${a.predictedBefore.toFixed(2)} -> ${a.predictedAfter.toFixed(2)}`,
  ].join('\n');
}
