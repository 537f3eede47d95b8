// The RunResult of a demo or `pifarm run` (a DemoReport), for the JSON result and HTML report.
import { stageInfos } from '../model/shapes.js';
import { loadModelSpec, type StageSpec } from '../model/spec.js';
import { networkBytes } from '../topology/cost-model.js';
import type { RunResult } from '../report/types.js';
import { benchRunResult, newRunId } from './bench-result.js';
import type { DemoReport } from './local-demo.js';

export function demoRunResult(r: DemoReport, stages: StageSpec[], kind: 'demo' | 'run', runId = newRunId(`${kind}-${r.preset.replace(/[^A-Za-z0-9._-]/g, '_')}`)): RunResult {
  const result = benchRunResult({
    runId,
    startedAt: new Date(Date.now() - r.sender.wallMs).toISOString(),
    model: r.model,
    preset: r.preset,
    engine: r.engine,
    stages,
    frames: r.frames,
    completed: r.completed,
    dropped: r.dropped,
    ips: r.ips,
    latencyMs: { p50: r.latencyMs.p50, p95: r.latencyMs.p95, p99: r.latencyMs.p99 },
    processes: r.sender.processes,
    ...(r.timeline ? { timeline: r.timeline } : {}),
    bytesPerFrame: networkBytes(stageInfos(loadModelSpec(r.model), stages)),
    check: { compared: r.check.compared, maxAbsDiff: r.check.maxAbsDiff, ok: r.check.ok },
  });
  result.kind = kind;
  for (const s of result.stages) {
    const mb = r.stages.find((x) => x.role === s.role)?.rssMb;
    if (mb !== undefined && Number.isFinite(mb)) s.rssMb = mb;
  }
  return result;
}
