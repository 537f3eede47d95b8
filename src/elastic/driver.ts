// What the live musical chair needs from a farm: start a topology's processes on given devices
// (loaded and ready before any frame goes to them), tell whether an idle device can be used, and
// stop a topology. The local farm (lab/elastic-local.ts) is one; a farm over SSH would be another.
import type { Endpoint, NextStage } from '../runtime/config.js';
import type { NodeStats } from '../runtime/protocol.js';
import type { StageSpec } from '../model/spec.js';

export interface DeployedNode {
  /** processName: "block1.0", "fc1.0.s1" */
  name: string;
  role: string;
  device: string;
  endpoint: Endpoint;
}

export interface Deployment {
  stages: StageSpec[];
  /** the first stage, for the sender */
  first: NextStage;
  nodes: DeployedNode[];
  stats(): Promise<NodeStats[]>;
  stop(): Promise<void>;
}

export interface ElasticDriver {
  /** every device the farm may use, in order */
  devices(): string[];
  /** an idle device answers (a host of the inventory that is up again, a Pi that joined) */
  reachable(device: string): Promise<boolean>;
  /**
   * starts the stages' processes, one per device in order, and resolves once all are ready; once
   * `signal` aborts (one of the devices was lost meanwhile) it stops what it started and rejects
   */
  deploy(stages: StageSpec[], devices: string[], signal?: AbortSignal): Promise<Deployment>;
  maxMessageBytes: number;
  secret?: Buffer;
  /** after the last topology stopped */
  close?(): Promise<void>;
}

/**
 * The topology still has a whole replica of every stage on devices not lost: its frames can
 * finish there (the failover re-sent the lost replicas' frames to the others), so a move after a
 * loss drains it like any move while the new topology fills (re-sending them all would restart a
 * pipeline of VGG16's 11 s latency from empty).
 */
export function canFinish(d: Pick<Deployment, 'stages' | 'nodes'>, lost: ReadonlySet<string>): boolean {
  // processName: role.replica or role.replica.sN; a replica with a shard on a lost device is broken
  const replicaOf = (n: DeployedNode) => `${n.role}.${n.name.slice(n.role.length + 1).split('.')[0]}`;
  const broken = new Set(d.nodes.filter((n) => lost.has(n.device)).map(replicaOf));
  return d.stages.every((s) => d.nodes.some((n) => n.role === s.role && !broken.has(replicaOf(n))));
}
