// Figures the report draws, derived from a RunResult's per-frame records: latency percentiles and
// histogram, IPS per 1 s bucket, and the busy intervals of every process (the timeline's lanes).
// Pure functions, unit-tested; the report never trusts that optional fields are present.
import type { FrameRecord, RunResult } from './types.js';
// One definition of a percentile for the run and its report.
import { percentile } from '../runtime/stats.js';

export { percentile };

/** End-to-end latency of every completed frame, in send order. */
export function latencies(frames: readonly FrameRecord[]): number[] {
  return frames.filter((f) => f.doneAt !== undefined).map((f) => f.doneAt! - f.sentAt);
}

export interface Bin {
  lo: number;
  hi: number;
  count: number;
}

/** Equal-width bins over [min, max]; about sqrt(n) bins, between 5 and 40. */
export function histogram(values: readonly number[], bins?: number): Bin[] {
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const n = bins ?? Math.max(5, Math.min(40, Math.ceil(Math.sqrt(values.length))));
  const width = max > min ? (max - min) / n : 1;
  const out: Bin[] = Array.from({ length: n }, (_, i) => ({ lo: min + i * width, hi: min + (i + 1) * width, count: 0 }));
  for (const v of values) out[Math.min(n - 1, Math.floor((v - min) / width))]!.count++;
  return out;
}

/** A round bucket width giving a short run enough points: 0.1 .. 1 s, about 20 buckets. */
export function bucketMs(spanMs: number): number {
  return [100, 200, 250, 500, 1000].find((b) => spanMs / b <= 20) ?? 1000;
}

/**
 * Completed frames per second in buckets from the run's start (t = bucket start, s); 1 s buckets,
 * finer for short runs. The last bucket's rate is over the part of it the run covered (at least half).
 */
export function ipsOverTime(frames: readonly FrameRecord[], bucket?: number): { t: number; ips: number }[] {
  const done = frames.filter((f) => f.doneAt !== undefined).map((f) => f.doneAt!);
  if (done.length === 0) return [];
  const end = Math.max(...done);
  const b = bucket ?? bucketMs(end);
  const last = Math.floor(end / b);
  const counts = new Array<number>(last + 1).fill(0);
  for (const d of done) counts[Math.max(0, Math.floor(d / b))]!++;
  const out = counts.map((n, i) => ({ t: (i * b) / 1000, ips: n / ((i === last ? end - i * b : b) / 1000) }));
  // A sliver of a last bucket would show a spike (a few frames over a few ms): it is left out.
  if (last > 0 && end - last * b < b / 2) out.pop();
  return out;
}

/** The run's IPS series (points at bucket middles): the recorded one, else from the timeline. */
export function ipsSeries(r: RunResult): { t: number; ips: number }[] {
  if (r.ipsOverTime && r.ipsOverTime.length > 0) return r.ipsOverTime.map((p) => ({ t: p.t + 0.5, ips: p.ips }));
  const frames = r.timeline ?? [];
  const end = Math.max(0, ...frames.map((f) => f.doneAt ?? 0));
  const b = bucketMs(end);
  return ipsOverTime(frames, b).map((p) => ({ t: p.t + b / 2000, ips: p.ips }));
}

export interface Lane {
  /** "role r0 s0 @ host" */
  key: string;
  role: string;
  host: string;
  replica: number;
  shard: number;
  /** compute intervals (ms since start) with the frame they belong to */
  busy: { frame: number; arrival: number; start: number; end: number }[];
  /** busy time / span of the run */
  utilization: number;
}

/**
 * One lane per process (role, replica, shard, host), in pipeline order: by `roleOrder` when given,
 * else the order of first appearance in the traces (which follow the frame's path).
 */
export function lanes(frames: readonly FrameRecord[], roleOrder: readonly string[] = []): Lane[] {
  const by = new Map<string, Lane>();
  let spanEnd = 0;
  let spanStart = Infinity;
  for (const f of frames) {
    spanStart = Math.min(spanStart, f.sentAt);
    if (f.doneAt !== undefined) spanEnd = Math.max(spanEnd, f.doneAt);
    for (const h of f.trace) {
      const key = `${h.role} r${h.replica} s${h.shard} @ ${h.host}`;
      let lane = by.get(key);
      if (!lane) by.set(key, (lane = { key, role: h.role, host: h.host, replica: h.replica, shard: h.shard, busy: [], utilization: 0 }));
      lane.busy.push({ frame: f.id, arrival: h.arrival, start: h.start, end: h.end });
      spanEnd = Math.max(spanEnd, h.end);
    }
  }
  const span = spanEnd - (Number.isFinite(spanStart) ? spanStart : 0);
  const rank = (role: string) => (roleOrder.includes(role) ? roleOrder.indexOf(role) : roleOrder.length);
  // Stable sort: stages in pipeline order, then replica and shard; unknown roles keep their place.
  const out = [...by.values()].sort((a, b) => rank(a.role) - rank(b.role) || (roleOrder.length ? a.replica - b.replica || a.shard - b.shard : 0));
  for (const l of out) l.utilization = span > 0 ? l.busy.reduce((a, b) => a + (b.end - b.start), 0) / span : 0;
  return out;
}

/** Busy ms per completed frame on each host (all its processes together), from the traces. */
export function busyMsPerFrameByHost(frames: readonly FrameRecord[]): Map<string, number> {
  const completed = frames.filter((f) => f.doneAt !== undefined);
  const out = new Map<string, number>();
  if (completed.length === 0) return out;
  for (const f of completed) for (const h of f.trace) out.set(h.host, (out.get(h.host) ?? 0) + (h.end - h.start));
  for (const [k, v] of out) out.set(k, v / completed.length);
  return out;
}
