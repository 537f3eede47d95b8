// What the sender reports at the end of a run: counts, the measured throughput and latency,
// failover, per-process figures from the frames' traces, and the sampled outputs.
import type { FailoverStats } from './failover.js';
import type { Hop } from './protocol.js';
import type { ProcessFigures, Summary } from './stats.js';

export interface SenderReport {
  mode: 'closed-loop' | 'open-loop';
  window: number | null;
  rate: number | null;
  frames: number;
  warmup: number;
  sent: number;
  completed: number;
  dropped: number;
  /** with a deadline: of the dropped frames, those given up because they were past it */
  pastDeadline?: number;
  /** results that came after their frame timed out, or for unknown ids */
  late: number;
  duplicates: number;
  /** first-stage replicas lost and frames re-sent to the survivors */
  failover: FailoverStats;
  /** live moves: topology epochs the run used, frames re-sent from a retired one into the next */
  moves?: { epochs: number; resent: number };
  wallMs: number;
  steadyFrames: number;
  steadyMs: number;
  ips: number;
  /**
   * how ips was measured: "rate" = the slope of completions over time while the pipeline was full
   * (closed loop; robust to completions that come in bursts, as 7 replicas finishing together do);
   * "little" = window / mean latency of those frames (fewer than 6 of them); "span" = steady
   * frames / steady window (open loop, or a run too short)
   */
  ipsMethod: 'rate' | 'little' | 'span';
  latencyMs: Summary;
  processes: ProcessFigures[];
  /** outputs of the sampled frames (not JSON: Float32Array) */
  samples: Map<number, Float32Array>;
  /** with a source: the sampled frames' inputs (for the output check) */
  sampleInputs?: Map<number, Uint8Array>;
  /** with a source: what it read, frames it offered, frames it skipped (live), why it ended early */
  source?: { describe: string; offered: number; skipped: number; fps?: number; error?: string };
  /** with keepTimeline: every completed frame, in completion order, times on the sender clock */
  timeline?: { id: number; sentAt: number; doneAt: number; trace: Hop[] }[];
}
