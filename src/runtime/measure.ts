// How a run is measured from its completions: the steady window, IPS and per-process figures.
// Pure functions, unit-tested (test/runtime/steady-window.test.ts).
import type { Hop } from './protocol.js';
import { processFigures, type ProcessFigures } from './stats.js';

/** One frame back at the sender. */
export interface Completion {
  id: number;
  at: number;
  latency: number;
  trace: Hop[];
}

/** Service times over the steady frames; utilisation from every frame's hops clipped to the window. */
export function figures(steady: Completion[], all: Completion[], window: { start: number; end: number }): ProcessFigures[] {
  const key = (p: ProcessFigures) => `${p.role}/${p.replica}/${p.shard}/${p.host}`;
  const busy = new Map(processFigures(all.map((x) => x.trace), window).map((p) => [key(p), p.utilization]));
  return processFigures(steady.map((x) => x.trace), window).map((p) => ({ ...p, utilization: busy.get(key(p)) ?? p.utilization }));
}

/**
 * Throughput. Closed loop: over the completions while the pipeline was full (after the warm-up,
 * before the drain: the first N - window), the slope of a least-squares line through (completion
 * time, completion count): completed frames over the steady window, with no dependence on where
 * the window's ends fall when replicas finish frames in bursts (a staircase has the slope of its
 * steps). Fewer than MIN_RATE_POINTS such completions: by Little's law, window / their mean
 * latency (biased high on short runs: the frames that finish first are the quick ones); none:
 * steady frames over the steady window.
 */
export function throughput(completions: Completion[], warmup: number, window: number | null, steadyFrames: number, steadyMs: number): { ips: number; ipsMethod: 'rate' | 'little' | 'span' } {
  if (window !== null) {
    const full = completions.slice(0, Math.max(0, completions.length - window)).filter((c) => c.id >= warmup);
    const slope = full.length >= MIN_RATE_POINTS ? countSlope(full.map((c) => c.at)) : NaN;
    if (slope > 0) return { ips: slope * 1000, ipsMethod: 'rate' };
    if (full.length >= 2) {
      const mean = full.reduce((a, c) => a + c.latency, 0) / full.length;
      if (mean > 0) return { ips: (window * 1000) / mean, ipsMethod: 'little' };
    }
  }
  return { ips: steadyMs > 0 ? (steadyFrames * 1000) / steadyMs : 0, ipsMethod: 'span' };
}

/** completions in the full-pipeline part of a run needed for the rate method */
export const MIN_RATE_POINTS = 6;

/** Least-squares slope of count (1, 2, 3...) over the times (ms): completions per ms; NaN if the times do not spread. */
function countSlope(times: number[]): number {
  const n = times.length;
  const meanT = times.reduce((a, t) => a + t, 0) / n;
  const meanK = (n + 1) / 2;
  let num = 0;
  let den = 0;
  times.forEach((t, i) => {
    num += (t - meanT) * (i + 1 - meanK);
    den += (t - meanT) ** 2;
  });
  return den > 0 ? num / den : NaN;
}

/**
 * The steady window of a run (for utilisation and service times): from the send of the first
 * frame after the warm-up to the last completion before the drain (closed loop: the (N-W)-th,
 * after which fewer than W frames are in flight), or to the last completion. Long spans on
 * purpose: 7 replicas finishing together make completions come in bursts, and a window between
 * two completions would be off by up to a burst.
 */
export function steadyWindow(
  completions: Completion[],
  sendTimes: { firstMeasured: number },
  warmup: number,
  window: number | null,
  t0: number,
  tEnd: number,
): { steady: Completion[]; steadyStart: number; steadyEnd: number } {
  const start = Number.isFinite(sendTimes.firstMeasured) ? sendTimes.firstMeasured : t0;
  const n = completions.length;
  if (window !== null && n - window >= 1) {
    const last = n - window - 1;
    const steady = completions.slice(0, last + 1).filter((c) => c.id >= warmup);
    if (steady.length >= 2 && completions[last]!.at > start) return { steady, steadyStart: start, steadyEnd: completions[last]!.at };
  }
  const steady = completions.filter((c) => c.id >= warmup);
  return { steady, steadyStart: start, steadyEnd: steady.length ? steady[steady.length - 1]!.at : tEnd };
}
