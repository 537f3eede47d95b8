// What the sender reports at the end of a run: counts, the measured throughput and latency,
// failover, per-process figures from the frames' traces, and the sampled outputs; and the
// function that assembles it from what the sender counted.
import type { FailoverStats } from './failover.js';
import type { Hop } from './protocol.js';
import { summarize, type ProcessFigures, type Summary } from './stats.js';
import { figures, steadyWindow, throughput, type Completion } from './measure.js';
import type { SenderOptions } from './sender-options.js';

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
  source?: { describe: string; offered: number; skipped: number; fps?: number; error?: string; unreadable?: string[] };
  /** with keepTimeline: every completed frame, in completion order, times on the sender clock */
  timeline?: { id: number; sentAt: number; doneAt: number; trace: Hop[] }[];
}

/** What a run of the sender counted, for its report. */
export interface SenderTally {
  window: number | null;
  warmup: number;
  /** frames the sender took to send (from a source: what it offered) */
  offered: number;
  frames: number;
  sent: number;
  dropped: number;
  pastDeadline: number;
  late: number;
  duplicates: number;
  failover: FailoverStats;
  epochs: number;
  movedFrames: number;
  firstMeasuredAt: number;
  completions: Completion[];
  samples: Map<number, Float32Array>;
  sampleInputs: Map<number, Uint8Array>;
  t0: number;
  tEnd: number;
}

export function buildSenderReport(o: SenderOptions, t: SenderTally): SenderReport {
  const { window, completions } = t;
  // a source may have offered fewer frames than asked: the warm-up leaves at least one measured
  const warmup = Math.min(t.warmup, Math.max(0, t.offered - 1));
  completions.sort((a, b) => a.at - b.at);
  const { steady, steadyStart, steadyEnd } = steadyWindow(completions, { firstMeasured: t.firstMeasuredAt }, warmup, window, t.t0, t.tEnd);
  const steadyMs = Math.max(0, steadyEnd - steadyStart);
  const measured = completions.filter((x) => x.id >= warmup);
  return {
    mode: window === null ? 'open-loop' : 'closed-loop',
    window,
    rate: o.rate ?? null,
    frames: t.frames,
    warmup,
    sent: t.sent,
    completed: completions.length,
    dropped: t.dropped,
    ...(o.deadlineMs !== undefined ? { pastDeadline: t.pastDeadline } : {}),
    late: t.late,
    duplicates: t.duplicates,
    failover: t.failover,
    ...(t.epochs > 1 ? { moves: { epochs: t.epochs, resent: t.movedFrames } } : {}),
    wallMs: t.tEnd - t.t0,
    steadyFrames: steady.length,
    steadyMs,
    ...throughput(completions, warmup, window, steady.length, steadyMs),
    latencyMs: summarize((measured.length ? measured : completions).map((x) => x.latency)),
    processes: figures(steady, completions, { start: steadyStart, end: steadyEnd }),
    samples: t.samples,
    ...(o.source ? { sampleInputs: t.sampleInputs, source: { describe: o.source.describe, offered: t.offered, skipped: o.source.skipped, ...(o.source.fps !== undefined ? { fps: o.source.fps } : {}), ...(o.source.error ? { error: o.source.error } : {}), ...(o.source.unreadable?.length ? { unreadable: [...o.source.unreadable] } : {}) } } : {}),
    ...(o.keepTimeline ? { timeline: completions.map((x) => ({ id: x.id, sentAt: x.at - x.latency, doneAt: x.at, trace: x.trace })) } : {}),
  };
}
