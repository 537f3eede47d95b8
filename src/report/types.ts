// The result of one measured run (demo, `pifarm run`, `pifarm bench farm`, the benchmark on
// virtual Pis), as written to reports/<run id>/result.json and drawn by the HTML report; made by
// report/run-result.ts alone. Fields past the demo's are optional.
import type { SenderReport } from '../runtime/sender.js';

export type SenderFigures = Omit<SenderReport, 'samples' | 'sampleInputs' | 'timeline'>;

/** A run whose sampled outputs were checked against the whole model (the demo, `pifarm run`). */
export type CheckedRun = RunResult & { check: Required<NonNullable<RunResult['check']>>; sender: SenderFigures };

export interface StageTrace {
  role: string;
  host: string;
  replica: number;
  shard: number;
  /** ms since the run's start (the sender's clock; nodes' clocks are offset-corrected) */
  arrival: number;
  start: number;
  end: number;
}

export interface FrameRecord {
  id: number;
  sentAt: number;
  /** absent when the frame was dropped */
  doneAt?: number;
  trace: StageTrace[];
}

/** frames a stage's processes dropped, by reason (from their own counters) */
export interface StageDrops {
  /** wrong size, shape or dtype */
  refused: number;
  /** input queue full */
  queueFull: number;
  /** a shard of the frame never came (merge timeout or capacity) */
  missingShard: number;
  /** the next stage was unreachable, all its replicas down, or the send buffer full */
  notSent: number;
}

export interface StageResult {
  role: string;
  replicas: number;
  shards: number;
  /** "conv1..pool5", or the one layer */
  layers?: string;
  hosts?: string[];
  /** mean compute time per frame on one process */
  serviceMs: number;
  /** busy time / steady window, averaged over the stage's processes */
  utilization: number;
  /** mean wait between arrival and compute start */
  queueMs?: number;
  /** the largest resident memory among the stage's processes after the run (where their stats were read) */
  rssMb?: number;
  /** the largest resident memory seen, the block's load included (weights held twice for a moment) */
  peakRssMb?: number;
  drops?: StageDrops;
  /** the cost model's compute time per frame of one process (bench runs with a prediction) */
  predictedComputeMs?: number;
  /** the cost model's service time per frame of one process: compute plus receiving and sending */
  predictedServiceMs?: number;
  /** CPU time one process used per frame on this machine (engine and runtime), from the nodes' counters */
  cpuMsPerFrame?: number;
  /**
   * emulated runs: the time per frame the emulated device needs (cpuMsPerFrame / the CPU quota),
   * what the model's predictedServiceMs stands for; unlike serviceMs it does not depend on when a
   * stage that idles gets its CPU
   */
  deviceMsPerFrame?: number;
}

export interface RunResult {
  runId: string;
  startedAt: string;
  kind: 'demo' | 'run' | 'bench';
  model: string;
  /** preset name, "plan", or the topology file */
  preset: string;
  engine: string;
  /** devices as the paper counts them: nodes plus the sender */
  devices: number;
  frames: number;
  completed: number;
  dropped: number;
  dropReasons?: Record<string, number>;
  ips: number;
  latencyMs: { p50: number; p95: number; p99: number; mean?: number };
  /** node processes, and the threads each computes with */
  processes?: number;
  threadsPerProcess?: number;
  /** what the sender measured beyond the summary: loop mode, failover, duplicates, per-process figures */
  sender?: SenderFigures;
  stages: StageResult[];
  bottleneck?: string;
  predicted?: { ips: number; bottleneck: string; ratio: number };
  bytesPerFrame?: number;
  emulation?: { profile: string; gflops: number; bandwidthMbit: number; latencyMs: number; lossPct: number };
  /** joules per inference, as the paper computes: power x time per frame */
  energy?: { staticJ: number; dynamicJ: number; totalJ: number };
  /** sampled outputs against the whole model in one process */
  check?: { compared: number; maxAbsDiff: number; ok: boolean; tolerance?: number; top1Mismatches?: number };
  /** per-frame records for the timeline and the latency distribution */
  timeline?: FrameRecord[];
  /** the sampled frames' highest classes (an imported model's labels where it has them) */
  top?: { frame: number; classes: { index: number; label?: string; p: number }[] }[];
  /** live moves (--elastic): each re-plan the farm made while frames kept flowing */
  moves?: MoveRecord[];
  /** completed frames per second, in 1 s buckets from the start */
  ipsOverTime?: { t: number; ips: number }[];
}

/** One live move of the farm to a new topology (elastic/controller.ts). */
export interface MoveRecord {
  /** ms since the stream started */
  atMs: number;
  /** "dev2 lost", "dev2 joined" */
  why: string;
  from: string;
  to: string;
  devices: string[];
  predictedBefore: number;
  predictedAfter: number;
  /** starting and loading the new topology's processes, until the first frame went to it */
  startMs: number;
  /** frames re-sent from the old topology into the new one */
  resent: number;
  /** from the switch until the old topology's processes were stopped */
  drainMs: number;
  /** frames completed per second over the 3 s before the decision, and over 3 s from 1 s after the drain (where the run lasted) */
  measuredBefore?: number;
  measuredAfter?: number;
}
