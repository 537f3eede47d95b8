// Figures of a run: percentiles and per-stage service time and utilisation from frame traces.
// Pure functions, unit-tested.
import type { Hop } from './protocol.js';

/** Percentile (0..100) of values by linear interpolation between closest ranks; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  return {
    n,
    mean: n ? values.reduce((a, b) => a + b, 0) / n : NaN,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: n ? Math.max(...values) : NaN,
  };
}

export interface ProcessFigures {
  role: string;
  replica: number;
  shard: number;
  host: string;
  frames: number;
  /** compute time per frame (start..end on that node) */
  serviceMs: Summary;
  /** time between arrival and compute start (queue and merge wait) */
  waitMs: Summary;
  /** busy time / window: 1 means the process computed all the time */
  utilization: number;
}

/**
 * Per process (role, replica, shard) figures from frame traces. Service and wait times are over
 * every hop given; utilisation is the compute time that falls inside the window [start, end]
 * (clipped, so frames straddling an edge count only their part) over the window's length.
 * Hops of a merged frame appear once per process (the merge de-duplicates them).
 */
export function processFigures(traces: readonly Hop[][], window: { start: number; end: number }): ProcessFigures[] {
  const windowMs = window.end - window.start;
  const by = new Map<string, { hop: Hop; service: number[]; wait: number[]; busy: number }>();
  for (const trace of traces) {
    for (const h of trace) {
      const key = `${h.role}/${h.replica}/${h.shard}/${h.host}`;
      let e = by.get(key);
      if (!e) by.set(key, (e = { hop: h, service: [], wait: [], busy: 0 }));
      e.service.push(h.end - h.start);
      e.busy += Math.max(0, Math.min(h.end, window.end) - Math.max(h.start, window.start));
      e.wait.push(h.start - h.arrival);
    }
  }
  return [...by.values()].map(({ hop, service, wait, busy }) => ({
    role: hop.role,
    replica: hop.replica,
    shard: hop.shard,
    host: hop.host,
    frames: service.length,
    serviceMs: summarize(service),
    waitMs: summarize(wait),
    utilization: windowMs > 0 ? busy / windowMs : NaN,
  }));
}

/** The hops of several shard traces of one frame, each process once, in arrival order. */
export function mergeTraces(traces: readonly Hop[][]): Hop[] {
  const seen = new Set<string>();
  const out: Hop[] = [];
  for (const t of traces) {
    for (const h of t) {
      const key = `${h.role}/${h.replica}/${h.shard}/${h.host}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(h);
    }
  }
  return out.sort((a, b) => a.arrival - b.arrival);
}
