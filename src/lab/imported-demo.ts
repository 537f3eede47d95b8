// `pifarm demo --model NAME` for an imported model: its stages (cut at its cut points, about equal
// in MACs unless the cuts are given) as local node processes, each running its own ONNX stage
// graph written from the package, frames streamed through, the outputs checked against the whole
// graph in one process, and the top classes of the sampled frames.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../engine/index.js';
import { balancedCuts, graphPath, ImportedModelError, topClasses, type ImportedModel, type TopClass } from '../model/imported.js';

export { balancedCuts, topClasses };
import { checkWithBlock } from '../runtime/reference.js';
import { runSender, sampleIdsFor } from '../runtime/sender.js';
import { openRunInputs, type RunInputFlags } from '../sources/run-inputs.js';
import { runResult } from '../report/run-result.js';
import type { CheckedRun } from '../report/types.js';
import { startNodeProcesses } from './local-launch.js';
import { importedGraphs } from '../farm/imported-graphs.js';
import { wireTopology } from '../topology/wiring.js';
import type { Placement } from '../topology/types.js';
import { processCount, type StageSpec } from '../model/spec.js';
import { watchLocal } from './local-demo.js';
import { freePorts } from './local-ports.js';

export interface ImportedDemoOptions {
  modelsDir: string;
  model: ImportedModel;
  /** cut indexes where stages begin after the first (e.g. [12, 40]); default: `stages` stages about equal in MACs */
  cuts?: number[];
  stages?: number;
  replicas?: number[];
  /** shards per stage (a stage of one dense layer only) */
  shards?: number[];
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
  const stages: StageSpec[] = at.slice(0, -1).map((from, k) => ({ role: `s${k}`, layers: [m.cuts[from]!.tensor, m.cuts[at[k + 1]!]!.tensor], replicas: o.replicas?.[k] ?? 1, shards: o.shards?.[k] ?? 1 }));
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-imported-'));
  let g;
  try {
    g = importedGraphs(o.modelsDir, m.name, stages, dir);
    for (const row of g.files) for (const f of row) writeFileSync(f.path, f.bytes);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const count = processCount(stages);
  const ports = await freePorts(count + 1);
  const senderPort = ports.pop()!;
  const placements: Placement[] = [];
  stages.forEach((s, stageIndex) => {
    for (let replica = 0; replica < s.replicas; replica++) for (let shard = 0; shard < s.shards; shard++) placements.push({ host: 'local', role: s.role, stageIndex, replica, shard, port: ports[placements.length]! });
  });
  const wiring = wireTopology({ model: m.name, stages, placements, addresses: { local: '127.0.0.1' }, sender: { host: 'local', port: senderPort }, engine: 'onnx', threads: o.threads ?? 1, seed: 0, listenHost: '127.0.0.1', maxMessageBytes: g.maxMessageBytes, graphs: (k, shard) => g!.graphs[k]![shard]! });
  const configs = wiring.nodes;
  const maxMessageBytes = wiring.maxMessageBytes;
  const at127 = (port: number) => ({ host: '127.0.0.1', port });
  const inputs = openRunInputs(o.inputs ?? {}, m.input.shape, m.labels);
  o.log(`starting ${count} node processes of ${m.name}: ${stages.map((s) => `${s.role} ${s.layers[0]} -> ${s.layers[1]}${s.replicas > 1 ? ` x${s.replicas}` : ''}${s.shards > 1 ? ` (${s.shards} shards)` : ''}`).join(', ')}`);
  const pre = { ...m.preprocess, layout: m.input.layout };
  let sent;
  let stats;
  try {
    const procs = await startNodeProcesses(configs, { maxMessageBytes });
    watchLocal(inputs.live, configs, maxMessageBytes);
    try {
      const window = o.window ?? Math.min(32, 2 * count);
      sent = await runSender({
        input: m.input.shape, first: wiring.first, lastShards: wiring.lastShards, listen: at127(senderPort), frames: o.frames, warmup: o.warmup, window, seed: 1,
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
  const whole = await engine.loadGraph!({ graph: graphPath(o.modelsDir, m), input: m.input.name, inputShape: m.input.dims.slice(1), outputShape: m.output.dims.slice(1), preprocess: pre });
  const check = await checkWithBlock({ block: whole, inputLength: m.input.shape.reduce((a, b) => a * b, 1), frameSeed: 1, samples: sent.samples, ...(sent.sampleInputs ? { inputs: sent.sampleInputs } : {}) });
  const bytesPerFrame = at.reduce((a, c) => a + m.cuts[c]!.bytes, 0);
  const result = runResult({ kind: 'demo', model: m.name, topology: `cuts ${at.join(',')}`, engine: engine.describe(), threads: o.threads ?? 1, stages, sent, check, nodes: { after: stats }, bytesPerFrame });
  return { ...result, top: [...sent.samples].map(([frame, out]) => ({ frame, classes: topClasses(m, out) })) };
}
