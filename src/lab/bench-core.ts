// What every farm benchmark shares, whatever runs the nodes (local processes in cgroups, virtual
// Pis, ARM virtual Pis): the default window and frame count, the planner's prediction for the
// emulated Pi, the sender's timeouts at a Pi's speed, the result, and the printed summary.
import { processCount, type StageSpec } from '../model/spec.js';
import type { NodeStats } from '../runtime/protocol.js';
import type { SenderReport } from '../runtime/sender.js';
import { evaluateTopology, type CostModel, type Evaluation } from '../topology/cost-model.js';
import { evaluateImported } from '../topology/imported-cost.js';
import type { ImportedModel } from '../model/imported.js';
import { COMPARE_HEAD, compareRows, rowCells } from '../report/compare.js';
import { describeMisses } from '../report/model-check.js';
import { runResult, type Emulation } from '../report/run-result.js';
import { stageRows } from '../report/stage-rows.js';
import { table } from '../report/text-table.js';
import type { RunResult } from '../report/types.js';
import type { PiProfile } from './emulate/profiles.js';
import { deviceOf } from './bench-quota.js';

/**
 * Frames in flight by default: one per node process and a few to queue, enough to keep every
 * replica busy (by Little's law the pipeline holds IPS x latency frames: alexnet-6 about 3,
 * vgg16-11 about 8), and few, so the steady window (which ends `window` completions before the
 * last) keeps most of a run's frames.
 */
export function defaultWindow(stages: StageSpec[]): number {
  return Math.min(32, processCount(stages) + 4);
}

/** Frames to stream by default: the steady window holds at least three windows' worth. */
export function defaultFrames(model: string, stages: StageSpec[]): number {
  return Math.max(model === 'vgg16' ? 16 : 40, 4 * defaultWindow(stages));
}

/** The planner's prediction for these stages on the emulated Pi (default: no shared medium, as in quick mode); `model` a built-in model's name or an imported package. */
export function predictFor(model: string | ImportedModel, stages: StageSpec[], profile: PiProfile, network: CostModel = { bandwidthMbit: 300, sharedMedium: false }): Evaluation {
  return typeof model === 'string' ? evaluateTopology(model, stages, network, deviceOf(profile)) : evaluateImported(model, stages, network, deviceOf(profile));
}

/**
 * The sender's timeouts for nodes at a Pi's speed. A node answers a health probe between frames
 * (onnxruntime's run holds its thread), so a replica gets three of the model's slowest frame
 * times before it is called down (the default 5 s calls a VGG16 block on a Pi 3 down); a frame
 * is lost only when it is far past the pipeline's own latency with the window full.
 */
export function benchTimeouts(prediction: Evaluation, window: number): { failTimeoutMs: number; frameTimeoutMs: number } {
  const slowestMs = Math.max(...prediction.stages.map((x) => x.serviceS)) * 1000;
  return {
    failTimeoutMs: Math.round(Math.max(5000, 3 * slowestMs + 1000)),
    frameTimeoutMs: Math.round(Math.max(60_000, (3 * 1000 * window) / prediction.predictedIps)),
  };
}

export interface BenchParts {
  runId: string;
  startedAt: string;
  model: string;
  topology: string;
  engine: string;
  stages: StageSpec[];
  sent: Omit<SenderReport, 'samples'>;
  /** node counters after loading (for CPU per frame) and after the run */
  nodes: { before: NodeStats[]; after: NodeStats[] };
  prediction?: Evaluation;
  emulation?: Emulation;
  hostNames?: Record<string, string>;
  /** bytes on the wire per frame, where the model is not a built-in one */
  bytesPerFrame?: number;
}

export function benchResult(b: BenchParts): RunResult {
  return runResult({ kind: 'bench', ...b });
}

/** The printed result of a benchmark: the figures against the prediction, the stages, the model's misses, the comparison. */
export function formatBench(r: RunResult, o: { comparePaper: boolean; withHosts?: boolean; jsonPath: string; htmlPath: string }): string {
  const rows = stageRows(r, o.withHosts ?? false);
  return [
    `${r.model} ${r.preset}: ${r.completed}/${r.frames} frames, ${r.ips.toFixed(3)} IPS${r.predicted ? `, predicted ${r.predicted.ips.toFixed(3)} (${r.predicted.bottleneck}), measured/predicted ${r.predicted.ratio.toFixed(3)}` : ''}; latency p50 ${r.latencyMs.p50.toFixed(0)} ms, p95 ${r.latencyMs.p95.toFixed(0)} ms${r.energy ? `; ${r.energy.totalJ.toFixed(2)} J per inference` : ''}`,
    table(rows.head, rows.rows),
    ...describeMisses(r),
    '',
    table(COMPARE_HEAD, compareRows([r], o.comparePaper).map(rowCells)),
    `\nreport: ${o.htmlPath}\nresult: ${o.jsonPath}`,
  ].join('\n');
}
