// What a provision step is: "check facts, then act", reporting ok (nothing to do), changed (acted,
// or would act under --check) or failed, with a line saying what it saw or did.
import type { HostSpec } from '../inventory/types.js';
import type { Transport } from '../transport/transport.js';
import type { NodeConfig } from '../runtime/config.js';
import type { SelfTest } from '../runtime/self-test.js';
import type { HostFacts } from './facts.js';
import type { Bundle } from './bundle.js';

/** What the farm wants on one host. */
export interface HostPlan {
  /** node processes of this host: systemd instance name and its config */
  nodes: { instance: string; config: NodeConfig }[];
  /** addresses of the farm's other hosts and the control machine: the only firewall sources */
  peers: string[];
  /** ports the host's node processes listen on */
  ports: number[];
  /** the farm secret (64 hex characters) written to SECRET_PATH; absent: nodes run without authentication */
  secret?: string;
  /** the runtime bundle for this host's architecture and engine build's module (built once per pair) */
  bundle?: (arch: string, engineModule: string) => Promise<Bundle>;
  /** farm.engine: auto, onnx, tfjs or a build id; each host's build follows from it and its CPU */
  engine?: string;
  /** the known answer of a node's block, computed on the control machine (absent: nodes skip it) */
  knownAnswer?: (config: NodeConfig) => Promise<SelfTest>;
  /** how long the start step waits for a node to load and answer (default: wait-ready.ts) */
  readyTimeoutMs?: number;
  /** provision without a farm that resolves: why (the firewall step then leaves the ports to deploy) */
  farmProblem?: string;
  /** an imported model: the stage graphs this host's nodes run, where they go and their content */
  graphs?: StageGraphFile[];
}

export interface StageGraphFile {
  /** MODELS_DIR/<sha256 prefix>.onnx */
  path: string;
  sha256: string;
  bytes: Uint8Array;
}

export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface StepResult {
  step: string;
  status: StepStatus;
  detail: string;
  ms: number;
  /** bytes sent to the host by this step (code sync) */
  bytesSent?: number;
}

export interface StepContext {
  host: HostSpec;
  t: Transport;
  facts: HostFacts;
  /** report what would change, change nothing */
  check: boolean;
  /** never install from the network; fail clearly when something is missing */
  offline: boolean;
  log: (msg: string) => void;
  plan: HostPlan;
}

export interface StepOutcome {
  status: 'ok' | 'changed' | 'skipped';
  detail: string;
  bytesSent?: number;
}

export interface Step {
  name: string;
  run(ctx: StepContext): Promise<StepOutcome>;
}

/** A step that cannot do its job; the message says what is wrong on which host and what to do. */
export class ProvisionError extends Error {
  readonly userFacing = true;
}

/** Runs a step and turns its outcome or error into a StepResult (never throws). */
export async function runStep(step: Step, ctx: StepContext): Promise<StepResult> {
  const t0 = Date.now();
  try {
    const o = await step.run(ctx);
    const r: StepResult = { step: step.name, status: o.status, detail: o.detail, ms: Date.now() - t0 };
    if (o.bytesSent !== undefined) r.bytesSent = o.bytesSent;
    return r;
  } catch (e) {
    return { step: step.name, status: 'failed', detail: (e as Error).message, ms: Date.now() - t0 };
  }
}
