// Engine speed: for each model, the onnx engine against a bare onnxruntime session on the very same
// graph bytes (the ratio is the engine's overhead), and the tfjs engine. An imported model (--model
// NAME): the engine on its whole graph (preprocessing included) against a bare session, and its
// three stages at balanced cut points run one after another against the whole graph. With --arch, every engine
// build on ARM virtual Pis instead (bench/engine-arm.ts). Runs are interleaved in
// rounds so a noisy neighbour hits both sides alike; the ratio comes from one run.
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadModelSpec, modelNames } from '../src/model/spec.js';
import { balancedCuts, defaultModelsDir, graphPath, isImportedModel, loadImportedModel } from '../src/model/imported.js';
import { importedStage } from '../src/engine/imported-stage.js';
import { preprocessPixels } from '../src/engine/engine.js';
import { createEngine } from '../src/engine/index.js';
import { buildBlockGraph } from '../src/engine/onnx-graph.js';
import { DEFAULT_SEED } from '../src/model/weights.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeRuns(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      threads: { type: 'string' },
      rounds: { type: 'string' },
      'no-tfjs': { type: 'boolean' },
      arch: { type: 'string' },
      cpu: { type: 'string' },
      frames: { type: 'string', default: '3' },
      'host-cpuinfo': { type: 'boolean' },
      models: { type: 'string' },
    },
  });
  if (values.arch) {
    if (values.arch !== 'arm64' && values.arch !== 'armhf') throw new Error(`--arch: expected arm64 or armhf, got "${values.arch}"`);
    const cpus = values.cpu ? values.cpu.split(',') : values.arch === 'arm64' ? ['cortex-a53', 'cortex-a72', 'cortex-a76'] : ['cortex-a7'];
    const { runOnArm } = await import('./engine-arm.js');
    await runOnArm({ arch: values.arch, cpus, model: values.model ?? 'alexnet', rounds: Number(values.rounds ?? 2), frames: Number(values.frames), threads: Number(values.threads ?? 1), hostCpuinfo: !!values['host-cpuinfo'] });
    return;
  }
  const threads = Number(values.threads ?? 2);
  const rounds = Number(values.rounds ?? 5);
  const models = values.model ? [values.model] : ['alexnet', 'vgg16'];
  console.log(`engine benchmark: ${threads} threads, ${rounds} interleaved rounds, median ms per frame`);
  for (const m of models) {
    const modelsDir = values.models ? resolve(values.models) : defaultModelsDir();
    if (!modelNames().includes(m) && isImportedModel(modelsDir, m)) {
      await benchImported(modelsDir, m, threads, rounds);
      continue;
    }
    const spec = loadModelSpec(m);
    const layers = spec.layers.map((l) => l.name);
    const perRound = m === 'vgg16' ? 3 : 20;
    const x = new Float32Array(224 * 224 * 3).map((_, i) => (i % 251) / 255);

    const g = buildBlockGraph(spec, layers, DEFAULT_SEED);
    const bare = await ort.InferenceSession.create(g.bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const feed: Record<string, ort.Tensor> = { input: new ort.Tensor('float32', x, [1, 224, 224, 3]) };
    for (const w of g.weightFeeds) feed[w.name] = new ort.Tensor('float32', w.data, w.dims);
    const engine = await createEngine('onnx', { threads });
    const block = await engine.load({ model: spec, layers, seed: DEFAULT_SEED, threads });
    await bare.run(feed);
    await block.run(x);
    const bareMs: number[] = [];
    const engMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      bareMs.push(...(await timeRuns(() => bare.run(feed), perRound)));
      engMs.push(...(await timeRuns(() => block.run(x), perRound)));
    }
    await bare.release();
    await block.dispose();
    const b = median(bareMs);
    const e = median(engMs);
    console.log(`${m.padEnd(8)} bare onnxruntime  ${b.toFixed(2).padStart(8)} ms  ${(1000 / b).toFixed(2).padStart(7)} IPS`);
    console.log(`${m.padEnd(8)} onnx engine       ${e.toFixed(2).padStart(8)} ms  ${(1000 / e).toFixed(2).padStart(7)} IPS  ratio engine/bare IPS = ${(b / e).toFixed(3)}`);

    if (!values['no-tfjs']) {
      try {
        const tf = await createEngine('tfjs', { threads });
        const tb = await tf.load({ model: spec, layers, seed: DEFAULT_SEED, threads });
        await tb.run(x);
        const tfMs = await timeRuns(() => tb.run(x), m === 'vgg16' ? 2 : 10);
        await tb.dispose();
        const t = median(tfMs);
        console.log(`${m.padEnd(8)} tfjs (${tf.describe()})  ${t.toFixed(2).padStart(8)} ms  ${(1000 / t).toFixed(2).padStart(7)} IPS  ratio onnx/tfjs = ${(t / e).toFixed(2)}`);
      } catch (err) {
        console.log(`${m.padEnd(8)} tfjs: not available (${(err as Error).message})`);
      }
    }
  }
}

/** An imported model: the engine on the whole graph vs a bare session; three stages in a row vs the whole. */
async function benchImported(modelsDir: string, name: string, threads: number, rounds: number): Promise<void> {
  const m = loadImportedModel(modelsDir, name);
  const bytes = readFileSync(graphPath(modelsDir, m));
  const pre = { ...m.preprocess, layout: m.input.layout };
  const pixels = new Float32Array(m.input.shape.reduce((a, b) => a * b, 1)).map((_, i) => (i % 251) / 255);
  const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' as const, graphOptimizationLevel: 'all' as const };
  const bare = await ort.InferenceSession.create(bytes, opts);
  const feed = { [m.input.name]: new ort.Tensor('float32', preprocessPixels(pixels, m.input.shape, pre), m.input.dims) };
  const engine = await createEngine('onnx', { threads });
  const whole = await engine.loadGraph!({ graph: bytes, input: m.input.name, inputShape: m.input.dims.slice(1), outputShape: m.output.dims.slice(1), preprocess: pre, threads });
  const at = balancedCuts(m, 3);
  // Several sessions in one process with more than one thread each make their thread pools spin
  // against one another (a farm runs each stage in a process of its own): the stages and the whole
  // graph they are compared with run on one thread.
  const stages = await Promise.all(at.slice(0, -1).map((from, k) => engine.loadGraph!({ graph: importedStage(modelsDir, m, from, at[k + 1]!), input: m.cuts[from]!.tensor, inputShape: m.cuts[from]!.dims.slice(1), outputShape: m.cuts[at[k + 1]!]!.dims.slice(1), ...(k === 0 ? { preprocess: pre } : {}), threads: 1 })));
  const whole1 = await engine.loadGraph!({ graph: bytes, input: m.input.name, inputShape: m.input.dims.slice(1), outputShape: m.output.dims.slice(1), preprocess: pre, threads: 1 });
  const chain = async () => {
    let x: Float32Array = pixels;
    for (const s of stages) x = await s.run(x);
    return x;
  };
  await bare.run(feed);
  await whole.run(pixels);
  await chain();
  const perRound = m.macs > 2e9 ? 3 : 20;
  const b: number[] = [];
  const e: number[] = [];
  const c: number[] = [];
  const w1: number[] = [];
  for (let r = 0; r < rounds; r++) {
    b.push(...(await timeRuns(() => bare.run(feed), perRound)));
    e.push(...(await timeRuns(() => whole.run(pixels), perRound)));
    c.push(...(await timeRuns(chain, perRound)));
    w1.push(...(await timeRuns(() => whole1.run(pixels), perRound)));
  }
  await whole1.dispose();
  await bare.release();
  await whole.dispose();
  for (const s of stages) await s.dispose();
  const [mb, me, mc, m1] = [median(b), median(e), median(c), median(w1)];
  console.log(`${name} (imported, ${(m.macs / 1e6).toFixed(0)} M MACs), ${threads} threads`);
  console.log(`  bare onnxruntime, whole graph        ${mb.toFixed(2).padStart(8)} ms  ${(1000 / mb).toFixed(2).padStart(8)} IPS`);
  console.log(`  onnx engine, whole graph             ${me.toFixed(2).padStart(8)} ms  ${(1000 / me).toFixed(2).padStart(8)} IPS  ratio engine/bare IPS = ${(mb / me).toFixed(3)} (the engine also preprocesses the pixels)`);
  console.log(`  whole graph, 1 thread                ${m1.toFixed(2).padStart(8)} ms  ${(1000 / m1).toFixed(2).padStart(8)} IPS`);
  console.log(`  3 stages in a row, 1 thread (cuts ${at.join(',')})  ${mc.toFixed(2).padStart(8)} ms  ${(1000 / mc).toFixed(2).padStart(8)} IPS  ratio stages/whole time = ${(mc / m1).toFixed(3)}`);
}
