// The per-stage table of a run, as text cells: one definition for the terminal and the HTML report.
import type { RunResult, StageResult } from './types.js';

const num = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));

export interface StageRows {
  head: string[];
  rows: string[][];
  /** indexes of numeric columns (right-aligned in HTML) */
  numeric: number[];
}

/**
 * Columns: measured compute (service) and queueing; with a prediction, the model's compute and
 * service time; on emulated runs, CPU per frame here and the device time it stands for.
 */
export function stageRows(r: RunResult, withHosts = false): StageRows {
  const has = (f: (s: StageResult) => unknown) => r.stages.some((s) => f(s) !== undefined);
  const cols: [string, (s: StageResult) => string, boolean][] = [
    ['stage', (s) => s.role, false],
    ['replicas', (s) => String(s.replicas), true],
    ['shards', (s) => String(s.shards), true],
    ...(withHosts ? [['hosts', (s: StageResult) => (s.hosts ?? []).join(', ') || '–', false] as [string, (s: StageResult) => string, boolean]] : []),
    ['service ms', (s) => num(s.serviceMs), true],
    ...(has((s) => s.predictedComputeMs) ? [['model compute ms', (s: StageResult) => num(s.predictedComputeMs), true] as [string, (s: StageResult) => string, boolean]] : []),
    ...(has((s) => s.cpuMsPerFrame) ? [['CPU ms/frame here', (s: StageResult) => num(s.cpuMsPerFrame, 2), true] as [string, (s: StageResult) => string, boolean]] : []),
    ...(has((s) => s.deviceMsPerFrame) ? [['device ms/frame', (s: StageResult) => num(s.deviceMsPerFrame), true] as [string, (s: StageResult) => string, boolean]] : []),
    ...(has((s) => s.predictedServiceMs) ? [['model ms/frame', (s: StageResult) => num(s.predictedServiceMs), true] as [string, (s: StageResult) => string, boolean]] : []),
    ['queue ms', (s) => num(s.queueMs), true],
    ['util', (s) => `${(s.utilization * 100).toFixed(0)}%`, true],
    ['RSS MB', (s) => num(s.rssMb, 0), true],
    ...(has((s) => s.peakRssMb) ? [['peak MB', (s: StageResult) => num(s.peakRssMb, 0), true] as [string, (s: StageResult) => string, boolean]] : []),
  ];
  return {
    head: cols.map((c) => c[0]),
    rows: r.stages.map((s) => cols.map((c) => c[1](s))),
    numeric: cols.flatMap((c, i) => (c[2] ? [i] : [])),
  };
}
