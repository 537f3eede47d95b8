// A farm resolved from an inventory: the stages of its topology and where every node process runs.
// Produced by src/topology (from an inventory, a preset or a plan), consumed by farm/ and the demo.
import type { StageSpec } from '../model/spec.js';
import type { Inventory } from '../inventory/types.js';

/** One node process: a replica or shard of a stage, on a host, on a port. */
export interface Placement {
  /** inventory host name ("local" for the control machine in the demo) */
  host: string;
  role: string;
  stageIndex: number;
  replica: number;
  shard: number;
  port: number;
}

export interface ResolvedFarm {
  inventory: Inventory;
  model: string;
  /** a preset name, "auto" for a plan made at resolve time, or the topology file's path */
  topologyName: string;
  stages: StageSpec[];
  /** one per node process; a stage of r replicas and s shards has r*s placements */
  placements: Placement[];
  /** where the initial sender runs: "local" (the control machine) or a host name */
  sender: { host: string; port: number };
}
