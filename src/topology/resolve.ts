// Inventory -> ResolvedFarm: the topology's stages (preset, topology file, or a plan made now for
// the inventory's hosts) and one Placement per node process, with a port for each.
import { dirname } from 'node:path';
import type { Inventory, HostSpec } from '../inventory/types.js';
import { hostSlots } from '../inventory/farm-check.js';
import type { StageSpec } from '../model/spec.js';
import { chooseTopology } from './source.js';
import { instances } from '../model/spec.js';
import { planForInventory, type InventoryPlanOptions } from './plan-inventory.js';
import type { Placement, ResolvedFarm } from './types.js';

export class ResolveError extends Error {
  readonly userFacing = true;
}

export interface ResolveOptions {
  /** cost-model settings for topology "auto" */
  plan?: InventoryPlanOptions;
}

export function resolveFarm(inv: Inventory, opts: ResolveOptions = {}): ResolvedFarm {
  const { farm } = inv;
  let choice;
  try {
    choice = chooseTopology(farm.model, farm.topology, dirname(inv.file), farm.modelsDir);
  } catch (e) {
    throw new ResolveError(`${inv.file}: farm.topology: ${(e as Error).message}`);
  }
  let stages: StageSpec[];
  let hostsPerStage: string[][];
  if (choice.kind === 'auto') {
    const plan = planForInventory(inv, opts.plan);
    stages = plan.stages;
    hostsPerStage = plan.hosts;
  } else {
    stages = choice.stages;
    hostsPerStage = farm.assignment ? stages.map((s) => farm.assignment![s.role]!) : assignInOrder(inv, stages);
  }
  const placements = placeWithPorts(inv, stages, hostsPerStage);
  return {
    inventory: inv,
    model: farm.model,
    topologyName: choice.kind === 'auto' ? 'auto' : choice.name,
    stages,
    placements,
    sender: { host: farm.sender, port: farm.ports.sender },
  };
}

/**
 * Hosts for each stage's instances when the inventory gives no assignment: hosts in inventory
 * order, each filled up to its slots (the sender's host loses one slot) before the next is used.
 */
export function assignInOrder(inv: Inventory, stages: StageSpec[]): string[][] {
  const free = new Map(inv.hosts.map((h) => [h.name, hostSlots(h)]));
  if (inv.farm.sender !== 'local' && free.has(inv.farm.sender)) free.set(inv.farm.sender, free.get(inv.farm.sender)! - 1);
  let cursor = 0;
  const next = (): string => {
    while (cursor < inv.hosts.length && free.get(inv.hosts[cursor]!.name)! <= 0) cursor++;
    const h = inv.hosts[cursor];
    if (!h) {
      const need = stages.reduce((a, s) => a + instances(s), 0);
      throw new ResolveError(`${inv.file}: farm.topology: the topology needs ${need} node processes, more than the hosts can run; add hosts, or slots: N to a host`);
    }
    free.set(h.name, free.get(h.name)! - 1);
    return h.name;
  };
  return stages.map((s) => Array.from({ length: instances(s) }, next));
}

/**
 * One Placement per instance; instance k of a stage is replica floor(k / shards), shard k % shards.
 * Processes sharing an address get consecutive ports from farm.ports.node, skipping the sender's.
 */
export function placeWithPorts(inv: Inventory, stages: StageSpec[], hostsPerStage: string[][]): Placement[] {
  const nextPort = new Map<string, number>();
  const senderAddress = hostAddress(inv, inv.farm.sender);
  const out: Placement[] = [];
  stages.forEach((s, stageIndex) => {
    const hosts = hostsPerStage[stageIndex]!;
    if (hosts.length !== instances(s)) throw new ResolveError(`${inv.file}: role ${s.role}: expected ${instances(s)} hosts, got ${hosts.length}`);
    hosts.forEach((host, k) => {
      const addr = hostAddress(inv, host);
      let port = nextPort.get(addr) ?? inv.farm.ports.node;
      if (addr === senderAddress && port === inv.farm.ports.sender) port++;
      nextPort.set(addr, port + 1);
      out.push({ host, role: s.role, stageIndex, replica: Math.floor(k / s.shards), shard: k % s.shards, port });
    });
  });
  return out;
}

/** The address to reach a host at: "local" (the control machine) is 127.0.0.1 unless a host of that name says otherwise. */
export function hostAddress(farm: ResolvedFarm | Inventory, hostName: string): string {
  const inv = 'inventory' in farm ? farm.inventory : farm;
  const h: HostSpec | undefined = inv.hosts.find((x) => x.name === hostName);
  if (h) return h.address;
  if (hostName === 'local') return '127.0.0.1';
  throw new ResolveError(`${inv.file}: unknown host "${hostName}"`);
}
