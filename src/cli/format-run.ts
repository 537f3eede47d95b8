// The text summary of a measured run (`pifarm demo`, `run`, `up`): figures, drops, stage table, output check.
import type { CheckedRun } from '../report/types.js';
import { table } from '../report/text-table.js';

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** What was dropped and why: the sender's view (per frame), then each stage's counters (per hop). */
function dropLines(r: CheckedRun): string[] {
  const out: string[] = [];
  const fo = r.sender.failover;
  if (fo?.downs || r.sender.duplicates || r.sender.late) {
    out.push(`failover: ${fo?.downs ?? 0} replica loss(es), ${fo?.resent ?? 0} frame(s) re-sent to survivors; duplicates ${r.sender.duplicates}, late results ${r.sender.late} (counted once)`);
  }
  const why = r.stages
    .map((s) => {
      const d = s.drops;
      if (!d) return '';
      const parts = [[d.refused, 'refused (bad tensor)'], [d.queueFull, 'input queue full'], [d.missingShard, 'missing shard'], [d.notSent, 'next stage unreachable or send buffer full']] as const;
      const said = parts.filter(([n]) => n > 0).map(([n, t]) => `${n} ${t}`);
      return said.length ? `${s.role}: ${said.join(', ')}` : '';
    })
    .filter(Boolean);
  if (why.length) out.push(`dropped in the nodes: ${why.join('; ')}`);
  return out;
}

/** Live moves (--elastic): when, why, what moved, predictions before and after, and the cost. */
function moveLines(r: CheckedRun): string[] {
  if (!r.moves?.length) return [];
  return [
    `live moves: ${r.moves.length} (${r.sender.moves?.resent ?? 0} frame(s) re-sent into a new topology; each frame counted once)`,
    ...r.moves.map((m) => `  at ${f(m.atMs / 1000)} s, ${m.why}: ${m.from}  =>  ${m.to} on ${m.devices.length} device(s); predicted ${f(m.predictedBefore, 2)} -> ${f(m.predictedAfter, 2)} IPS (Pi 3)${m.measuredBefore !== undefined ? `, measured ${f(m.measuredBefore, 1)} -> ${m.measuredAfter !== undefined ? f(m.measuredAfter, 1) : '(run ended)'} IPS here` : ''}; started in ${f(m.startMs / 1000)} s, old drained in ${f(m.drainMs / 1000)} s, ${m.resent} re-sent`),
  ];
}

/** The run's summary, stage table and output check; `where` is "this machine" or "the farm". */
export function formatRun(r: CheckedRun, where: string): string {
  const lines = [
    `${r.preset} (${r.model}) on ${where}: ${r.processes} node processes, ${r.engine}, ${r.threadsPerProcess} thread(s) each`,
    `frames ${r.frames} (warm-up ${r.sender.warmup}, ${r.sender.window ? `${r.sender.window} in flight` : 'open loop'}): completed ${r.completed}, dropped ${r.dropped}`,
    `IPS ${f(r.ips, 2)}   latency p50 ${f(r.latencyMs.p50)} ms  p95 ${f(r.latencyMs.p95)} ms  p99 ${f(r.latencyMs.p99)} ms`,
    ...dropLines(r),
    ...moveLines(r),
    ...(r.sender.pastDeadline !== undefined ? [`deadline: ${r.sender.pastDeadline} frame(s) given up past it (of the ${r.dropped} dropped); their late results are not counted`] : []),
    ...(r.sender.source ? [`source: ${r.sender.source.describe}${r.sender.source.fps !== undefined ? ` (${r.sender.source.fps.toFixed(1)} frames/s)` : ''}: ${r.sender.source.offered} frame(s) offered${r.sender.source.skipped ? `, ${r.sender.source.skipped} skipped (the farm was busy: the newest frame wins)` : ''}${r.sender.source.unreadable?.length ? `; ${r.sender.source.unreadable.length} file(s) not images, skipped: ${r.sender.source.unreadable.join(', ')}` : ''}${r.sender.source.error ? `; it stopped: ${r.sender.source.error}` : ''}`] : []),
    '',
    table(
      ['stage', 'layers', 'replicas', 'shards', 'service ms', 'utilisation', 'rss MB', 'load peak MB'],
      r.stages.map((s) => [s.role, s.layers ?? '', String(s.replicas), String(s.shards), f(s.serviceMs, 2), `${f(s.utilization * 100, 0)} %`, f(s.rssMb ?? NaN, 0), f(s.peakRssMb ?? NaN, 0)]),
    ),
    '',
    `output check: ${r.check.compared} frames against the whole model in one process, max |diff| ${r.check.maxAbsDiff.toExponential(2)} ` +
      `(tolerance ${r.check.tolerance}): ${r.check.ok ? 'OK' : 'FAILED'}; top-1 class the same in ${r.check.compared - r.check.top1Mismatches} of ${r.check.compared}`,
  ];
  for (const t of r.top ?? []) lines.push(`frame ${t.frame}: ${t.classes.map((c) => `${c.label ?? `class ${c.index}`} ${(c.p * 100).toFixed(1)}%`).join(', ')}`);
  return lines.join('\n');
}
