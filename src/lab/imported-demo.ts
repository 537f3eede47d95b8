// `pifarm demo --model NAME` for an imported model: its stages (cut at its cut points, about equal
// in MACs unless the cuts are given) as local node processes, each running its own ONNX stage
// graph written from the package, frames streamed through, the outputs checked against the whole
// graph in one process, and the top classes of the sampled frames.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../engine/index.js';
import { importedStage } from '../engine/imported-stage.js';
import { balancedCuts, graphPath, ImportedModelError, topClasses, type ImportedModel, type TopClass } from '../model/imported.js';

export { balancedCuts, topClasses };
import { DEFAULT_MAX_MESSAGE_BYTES, type NodeConfig } from '../runtime/config.js';
import { checkWithBlock } from '../runtime/reference.js';
import { runSender, sampleIdsFor } from '../runtime/sender.js';
import { openRunInputs, type RunInputFlags } from '../sources/run-inputs.js';
import { runResult } from '../report/run-result.js';
import type { CheckedRun } from '../report/types.js';
import { startNodeProcesses } from './local-launch.js';
import { watchLocal } from './local-demo.js';
import { freePorts } from './local-ports.js';

export interface ImportedDemoOptions {
  modelsDir: string;
  model: ImportedModel;
  /** cut indexes where stages begin after the first (e.g. [12, 40]); default: `stages` stages about equal in MACs */
  cuts?: number[];
  stages?: number;
  replicas?: number[];
  frames: number;
  warmup: number;
  window?: number;
  threads?: number;
  log: (m: string) => void;
  /** --source, --loop, --results */
  inputs?: RunInputFlags;
}

export async function runImportedDemo(o: ImportedDemoOptions): Promise<CheckedRun & { top: { frame: number; classes: TopClass[] }[] }> {
  const m = o.model;
  const last = m.cuts.length - 1;
  const at = o.cuts ? [0, ...o.cuts, last] : balancedCuts(m, o.stages ?? 3);
  if (at.some((c, i) => i > 0 && !(c > at[i - 1]! && c <= last))) throw new ImportedModelError(`--cuts: expected increasing cut indexes between 1 and ${last - 1} (pifarm model show ${m.name} lists them), got ${o.cuts?.join(',')}`);
  const stages = at.slice(0, -1).map((from, k) => ({ role: `s${k}`, from, to: at[k + 1]!, replicas: o.replicas?.[k] ?? 1 }));
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-imported-'));
  const files = stages.map((s) => {
    const f = join(dir, `${s.role}.onnx`);
    writeFileSync(f, importedStage(o.modelsDir, m, s.from, s.to));
    return f;
  });
  const largest = Math.max(...m.cuts.map((c) => c.bytes));
  const maxMessageBytes = Math.max(DEFAULT_MAX_MESSAGE_BYTES, largest + 1024 * 1024);
  const count = stages.reduce((a, s) => a + s.replicas, 0);
  const ports = await freePorts(count + 1);
  const senderPort = ports.pop()!;
  const at127 = (port: number) => ({ host: '127.0.0.1', port });
  const listenOf = stages.map((s) => Array.from({ length: s.replicas }, () => at127(ports.shift()!)));
  const pre = { ...m.preprocess, layout: m.input.layout };
  const configs: NodeConfig[] = stages.flatMap((s, k) =>
    listenOf[k]!.map((listen, replica) => ({
      model: m.name, role: s.role, stageIndex: k, layers: [], replica, shard: { index: 0, count: 1 }, listen, mergeFrom: 1,
      next: k + 1 < stages.length ? { role: stages[k + 1]!.role, mode: 'replicas' as const, endpoints: listenOf[k + 1]! } : null,
      sender: at127(senderPort), engine: 'onnx' as const, threads: o.threads ?? 1, seed: 0, balance: 'round-robin' as const, maxMessageBytes, mergeTimeoutMs: 5000, mergeCapacity: 16,
      graph: { file: files[k]!, input: m.cuts[s.from]!.tensor, inputDims: m.cuts[s.from]!.dims, outputDims: m.cuts[s.to]!.dims, ...(k === 0 ? { preprocess: pre } : {}) },
    })),
  );
  const inputs = openRunInputs(o.inputs ?? {}, m.input.shape, m.labels);
  o.log(`starting ${count} node processes of ${m.name}: ${stages.map((s) => `${s.role} ${m.cuts[s.from]!.tensor} -> ${m.cuts[s.to]!.tensor}${s.replicas > 1 ? ` x${s.replicas}` : ''}`).join(', ')}`);
  let sent;
  let stats;
  try {
    const procs = await startNodeProcesses(configs, { maxMessageBytes });
    watchLocal(inputs.live, configs, maxMessageBytes);
    try {
      const window = o.window ?? Math.min(32, 2 * count);
      sent = await runSender({
        input: m.input.shape, first: { role: 's0', mode: 'replicas', endpoints: listenOf[0]! }, listen: at127(senderPort), frames: o.frames, warmup: o.warmup, window, seed: 1,
        sampleIds: sampleIdsFor(o.frames, !!inputs.source), maxMessageBytes, log: o.log,
        ...(inputs.source ? { source: inputs.source } : {}), ...(inputs.onResult ? { onResult: inputs.onResult } : {}), ...(inputs.live ? { resultInputs: true, onCounts: (c: { offered: number; skipped: number; lost: number }) => inputs.live!.counts(c) } : {}),
      });
      stats = await procs.stats();
    } finally {
      await procs.stop();
    }
  } finally {
    await inputs.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const engine = await createEngine('onnx', { threads: o.threads ?? 1 });
  o.log(`checking ${sent.samples.size} outputs against the whole ${m.name} in one process`);
  const whole = await engine.loadGraph!({ bytes: readFileSync(graphPath(o.modelsDir, m)), input: m.input.name, inputShape: m.input.dims.slice(1), outputShape: m.output.dims.slice(1), preprocess: pre });
  const check = await checkWithBlock({ block: whole, inputLength: m.input.shape.reduce((a, b) => a * b, 1), frameSeed: 1, samples: sent.samples, ...(sent.sampleInputs ? { inputs: sent.sampleInputs } : {}) });
  const specs = stages.map((s) => ({ role: s.role, layers: [m.cuts[s.from]!.tensor, m.cuts[s.to]!.tensor], replicas: s.replicas, shards: 1 }));
  const bytesPerFrame = at.reduce((a, c) => a + m.cuts[c]!.bytes, 0);
  const result = runResult({ kind: 'demo', model: m.name, topology: `cuts ${at.join(',')}`, engine: engine.describe(), threads: o.threads ?? 1, stages: specs, sent, check, nodes: { after: stats }, bytesPerFrame });
  return { ...result, top: [...sent.samples].map(([frame, out]) => ({ frame, classes: topClasses(m, out) })) };
}
