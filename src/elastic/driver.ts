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
  /** starts the stages' processes, one per device in order, and resolves once all are ready */
  deploy(stages: StageSpec[], devices: string[]): Promise<Deployment>;
  maxMessageBytes: number;
  secret?: Buffer;
  /** after the last topology stopped */
  close?(): Promise<void>;
}
