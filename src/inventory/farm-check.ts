// The checks of `farm` that need the topology: assignment roles and counts, a host used more
// often than it may be, room for every node process when pifarm assigns hosts itself.
import { dirname } from 'node:path';
import { chooseTopology, type TopologyChoice } from '../topology/source.js';
import { instances } from '../model/spec.js';
import { YamlCheckError, type YamlSource } from './yaml-source.js';
import type { FarmSpec, HostSpec } from './types.js';

/** How many processes (the sender counts as one) a host may run. */
export function hostSlots(h: HostSpec): number {
  return h.slots ?? (h.local ? Infinity : 1);
}

/** Returns the checked assignment (role -> hosts), or undefined when absent or wrong. */
export function checkFarmTopology(src: YamlSource, raw: Record<string, unknown>, farm: FarmSpec, file: string, hosts: HostSpec[]): Record<string, string[]> | undefined {
  let choice: TopologyChoice;
  try {
    choice = chooseTopology(farm.model, farm.topology, dirname(file), farm.modelsDir);
  } catch (e) {
    if (e instanceof YamlCheckError) {
      src.add(['farm', 'topology'], `the topology file ${farm.topology} has errors:`);
      src.issues.push(...e.issues);
    } else src.add(['farm', 'topology'], (e as Error).message);
    return undefined;
  }
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const used = new Map<string, string[]>();
  const use = (host: string, by: string): string[] => {
    const list = used.get(host) ?? [];
    list.push(by);
    used.set(host, list);
    return list;
  };
  if (farm.sender !== 'local' && byName.has(farm.sender)) use(farm.sender, 'the sender');

  // host errors drop hosts; capacity checks after them would only repeat the same problem
  const clean = !src.issues.some((i) => /^(hosts|defaults|groups)(\.|$)/.test(i.field));
  const rawAssign = raw.assignment;
  if (rawAssign === undefined) {
    if (choice.kind === 'auto') {
      // the planner needs a device count: a local host could run any number of processes
      for (const h of hosts) {
        if (h.local && h.slots === undefined) src.add(['hosts', h.name], 'topology "auto" plans for a number of devices: add slots: N to say how many node processes this local host may run', true);
      }
      const nodes = hosts.reduce((a, h) => a + (h.local && h.slots === undefined ? 0 : hostSlots(h)) - (used.get(h.name)?.length ?? 0), 0);
      // (after other errors, a host may be missing only because it was refused: say nothing more)
      if (nodes < 1 && clean && !hosts.some((h) => h.local && h.slots === undefined)) src.add(['farm', 'topology'], 'topology "auto" found no host to run nodes on (the sender\'s host runs only the sender); add hosts');
      return undefined;
    }
    const need = choice.stages.reduce((a, s) => a + instances(s), 0);
    const have = hosts.reduce((a, h) => a + hostSlots(h) - (used.get(h.name)?.length ?? 0), 0);
    if (have < need && clean) {
      src.add(['farm', 'topology'], `${choice.name} needs ${need} node processes, but the hosts offer ${have} (one each unless a host says slots: N or local: true); add hosts or choose a smaller topology`);
    }
    return undefined;
  }
  if (!rawAssign || typeof rawAssign !== 'object' || Array.isArray(rawAssign)) {
    src.add(['farm', 'assignment'], 'expected a mapping of role -> list of host names');
    return undefined;
  }
  if (choice.kind === 'auto') {
    src.add(['farm', 'assignment'], 'topology "auto" lets the planner choose the roles, so they cannot be assigned here; name a preset or a topology file, or remove assignment');
    return undefined;
  }
  src.checkDuplicateKeys(['farm', 'assignment'], 'role');
  const roles = choice.stages.map((s) => s.role);
  const out: Record<string, string[]> = {};
  let ok = true;
  for (const [role, v] of Object.entries(rawAssign as Record<string, unknown>)) {
    const at = ['farm', 'assignment', role];
    const stage = choice.stages.find((s) => s.role === role);
    if (!stage) {
      src.add(at, `role "${role}" is not in topology ${choice.name}; its roles are ${roles.join(', ')}`, true);
      ok = false;
      continue;
    }
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      src.add(at, 'expected a list of host names');
      ok = false;
      continue;
    }
    const need = instances(stage);
    if (list.length !== need) {
      const how = `${stage.replicas} replica${stage.replicas > 1 ? 's' : ''} x ${stage.shards} shard${stage.shards > 1 ? 's' : ''}`;
      src.add(at, `role ${role} of ${choice.name} runs ${how}, so expected ${need} host${need > 1 ? 's' : ''}, got ${list.length}`);
      ok = false;
    }
    list.forEach((h, i) => {
      const host = byName.get(h);
      const itemAt = typeof v === 'string' ? at : [...at, i];
      if (!host) {
        src.add(itemAt, `unknown host "${h}"; hosts: ${[...byName.keys()].join(', ')}`);
        ok = false;
        return;
      }
      const users = use(h, `${role}`);
      if (users.length > hostSlots(host)) {
        const before = users.slice(0, -1).join(', ');
        src.add(itemAt, `host "${h}" is already used by ${before}; a host runs one process (one device per role instance, as in the paper) unless it says slots: N or local: true`);
        ok = false;
      }
    });
    out[role] = list;
  }
  const missing = roles.filter((r) => !(r in out) && !Object.prototype.hasOwnProperty.call(rawAssign, r));
  if (missing.length) {
    src.add(['farm', 'assignment'], `roles without hosts: ${missing.map((r) => `${r} (expected ${instances(choice.stages.find((s) => s.role === r)!)})`).join(', ')}; assign every role, or remove assignment to let pifarm assign`, true);
    ok = false;
  }
  return ok ? out : undefined;
}
