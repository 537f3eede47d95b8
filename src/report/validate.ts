// Run-time check of a result.json read back from disk (`pifarm report DIR...`): a file written by an
// older or hand-edited run must fail with the file and the field, not draw an empty chart.
import type { RunResult } from './types.js';

export class RunResultError extends Error {}

type Obj = Record<string, unknown>;

function need(o: Obj, key: string, type: 'string' | 'number' | 'object', where: string): void {
  const v = o[key];
  const ok = type === 'object' ? typeof v === 'object' && v !== null : typeof v === type;
  if (!ok) throw new RunResultError(`${where}: field "${key}" must be a ${type}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
}

/** The value as a RunResult, or an error naming `file` and the first bad field. */
export function checkRunResult(value: unknown, file: string): RunResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RunResultError(`${file}: not a JSON object`);
  const o = value as Obj;
  for (const k of ['runId', 'startedAt', 'kind', 'model', 'preset', 'engine']) need(o, k, 'string', file);
  for (const k of ['devices', 'frames', 'completed', 'dropped', 'ips']) need(o, k, 'number', file);
  need(o, 'latencyMs', 'object', file);
  for (const k of ['p50', 'p95', 'p99']) need(o.latencyMs as Obj, k, 'number', `${file}: latencyMs`);
  if (!Array.isArray(o.stages)) throw new RunResultError(`${file}: field "stages" must be an array`);
  (o.stages as unknown[]).forEach((s, i) => {
    const where = `${file}: stages[${i}]`;
    if (typeof s !== 'object' || s === null) throw new RunResultError(`${where}: not an object`);
    need(s as Obj, 'role', 'string', where);
    for (const k of ['replicas', 'shards', 'serviceMs', 'utilization']) need(s as Obj, k, 'number', where);
  });
  if (o.timeline !== undefined) {
    if (!Array.isArray(o.timeline)) throw new RunResultError(`${file}: field "timeline" must be an array`);
    (o.timeline as unknown[]).forEach((f, i) => {
      const where = `${file}: timeline[${i}]`;
      if (typeof f !== 'object' || f === null) throw new RunResultError(`${where}: not an object`);
      need(f as Obj, 'id', 'number', where);
      need(f as Obj, 'sentAt', 'number', where);
      if (!Array.isArray((f as Obj).trace)) throw new RunResultError(`${where}: field "trace" must be an array`);
    });
  }
  return o as unknown as RunResult;
}
