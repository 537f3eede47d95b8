// The result of one measured run (demo, `pifarm run`, `pifarm bench farm`), as written to
// reports/<run id>/result.json and drawn by the HTML report. Fields past the demo's are optional.

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

export interface StageResult {
  role: string;
  replicas: number;
  shards: number;
  hosts?: string[];
  /** mean compute time per frame on one process */
  serviceMs: number;
  /** busy time / steady window, averaged over the stage's processes */
  utilization: number;
  /** mean wait between arrival and compute start */
  queueMs?: number;
  rssMb?: number;
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
  latencyMs: { p50: number; p95: number; p99: number };
  stages: StageResult[];
  bottleneck?: string;
  predicted?: { ips: number; bottleneck: string; ratio: number };
  bytesPerFrame?: number;
  emulation?: { profile: string; gflops: number; bandwidthMbit: number; latencyMs: number; lossPct: number };
  /** joules per inference, as the paper computes: power x time per frame */
  energy?: { staticJ: number; dynamicJ: number; totalJ: number };
  check?: { compared: number; maxAbsDiff: number; ok: boolean };
  /** per-frame records for the timeline and the latency distribution */
  timeline?: FrameRecord[];
  /** completed frames per second, in 1 s buckets from the start */
  ipsOverTime?: { t: number; ips: number }[];
}
