// `npm run bench -- pipeline [--preset P] [--frames N] [--rounds N] [--engine onnx|tfjs] [--hop-frames N] [--skip-farm]`
// (or --model NAME [--stages N] for an imported model: bench/pipeline-imported.ts)
// 1. IPS of the local farm (every node its own process, 1 engine thread each) vs the whole model
//    in one process, sequential frames, with 1 thread and with as many threads as the farm has in
//    total (capped at the core count: more threads than cores only adds contention).
// 2. Latency one runtime hop adds, for 25 KB, 100 KB and 3.2 MB tensors on loopback: the sender
//    streaming to itself (direct) vs through an identity node process (no layers). p50, window 1.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { createEngine } from '../src/engine/index.js';
import { findPreset, loadModelSpec } from '../src/model/spec.js';
import { DEFAULT_SEED } from '../src/model/weights.js';
import { launchLocalFarm, startNodeProcesses } from '../src/lab/local-launch.js';
import { freePorts } from '../src/lab/local-ports.js';
import type { NodeConfig } from '../src/runtime/config.js';
import { randomFrame } from '../src/runtime/frames.js';
import { runSender } from '../src/runtime/sender.js';
import { frameToFloat } from '../src/runtime/tensor.js';
import { resolve } from 'node:path';
import { defaultModelsDir, isImportedModel } from '../src/model/imported.js';
import { pipelineImported } from './pipeline-imported.js';

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;

interface Figure {
  ips: number;
  cpuMsPerFrame: number;
}

/** The whole model loaded once in this process; each call runs `frames` frames one after another. */
async function wholeModel(model: string, engineName: 'onnx' | 'tfjs', threads: number): Promise<{ run(frames: number): Promise<Figure>; dispose(): Promise<void> }> {
  const spec = loadModelSpec(model);
  const engine = await createEngine(engineName, { threads });
  const block = await engine.load({ model: spec, layers: spec.layers.map((l) => l.name), seed: DEFAULT_SEED, threads });
  const len = spec.input.reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: 4 }, (_, i) => randomFrame(1, i, len));
  for (let i = 0; i < 3; i++) await block.run(frameToFloat(inputs[i % 4]!));
  return {
    async run(frames) {
      const t0 = performance.now();
      const c0 = cpuNow();
      for (let i = 0; i < frames; i++) await block.run(frameToFloat(inputs[i % 4]!));
      return { ips: (frames * 1000) / (performance.now() - t0), cpuMsPerFrame: (cpuNow() - c0) / frames };
    },
    dispose: () => block.dispose(),
  };
}

/**
 * The local farm vs the whole model, measured in interleaved rounds (farm, whole 1 thread, whole N
 * threads, again) so that load from other processes on a shared machine hits all three alike;
 * medians are reported. CPU ms per frame (all node processes plus the sender) does not depend on
 * that load at all.
 */
export async function compareFarm(preset: string, engine: 'onnx' | 'tfjs', frames: number, rounds: number) {
  const p = findPreset(preset);
  const spec = loadModelSpec(p.model);
  const farm = await launchLocalFarm({ model: p.model, stages: p.stages, engine, threads: 1, seed: DEFAULT_SEED });
  const processes = farm.nodes.length;
  const sameThreads = Math.min(processes, availableParallelism());
  const whole1 = await wholeModel(p.model, engine, 1);
  const wholeN = await wholeModel(p.model, engine, sameThreads);
  const farmRuns: (Figure & { p50: number })[] = [];
  const w1: Figure[] = [];
  const wN: Figure[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const before = (await farm.stats()).reduce((a, x) => a + x.cpuMs, 0) + cpuNow();
      const rep = await runSender({
        input: spec.input,
        first: farm.first,
        lastShards: farm.lastShards,
        listen: { host: '127.0.0.1', port: farm.senderPort },
        frames,
        warmup: Math.max(5, Math.round(frames / 10)),
        window: Math.min(32, 2 * processes),
        seed: 1 + r,
        // Fresh wire ids per round: the nodes' merge buffers remember the ids of the last round.
        idBase: (r + 1) * 2 ** 24,
        sampleIds: [],
        maxMessageBytes: farm.maxMessageBytes,
      });
      const after = (await farm.stats()).reduce((a, x) => a + x.cpuMs, 0) + cpuNow();
      farmRuns.push({ ips: rep.ips, p50: rep.latencyMs.p50, cpuMsPerFrame: (after - before) / rep.completed });
      w1.push(await whole1.run(Math.max(10, Math.round(frames / 2))));
      wN.push(await wholeN.run(Math.max(10, Math.round(frames / 2))));
    }
  } finally {
    await farm.stop();
    await whole1.dispose();
    await wholeN.dispose();
  }
  const m = (v: Figure[]) => ({ ips: median(v.map((x) => x.ips)), cpuMsPerFrame: median(v.map((x) => x.cpuMsPerFrame)) });
  return { processes, sameThreads, farm: { ...m(farmRuns), p50: median(farmRuns.map((x) => x.p50)) }, whole1: m(w1), wholeN: m(wN), rounds: { farm: farmRuns.map((x) => x.ips), whole1: w1.map((x) => x.ips), wholeN: wN.map((x) => x.ips) } };
}

/** p50 of send-to-result latency for tensors of `bytes`, direct and through one identity node. */
export async function hopLatency(bytes: number, frames: number): Promise<{ direct: number; viaHop: number; added: number }> {
  const input: [number, number, number] = [1, 1, bytes];
  const max = 16 * 1024 * 1024;
  const [self, senderPort, nodePort] = await freePorts(3);
  const run = (port: number, listen: number) =>
    runSender({ input, first: { role: 'hop', mode: 'replicas', endpoints: [{ host: '127.0.0.1', port }] }, listen: { host: '127.0.0.1', port: listen }, frames, warmup: 20, window: 1, sampleIds: [], maxMessageBytes: max });
  const direct = (await run(self!, self!)).latencyMs.p50;
  const cfg: NodeConfig = {
    model: 'alexnet', role: 'echo', stageIndex: 0, layers: [], replica: 0, shard: { index: 0, count: 1 },
    listen: { host: '127.0.0.1', port: nodePort! }, mergeFrom: 1, next: null, sender: { host: '127.0.0.1', port: senderPort! },
    engine: 'onnx', seed: 0, balance: 'round-robin', maxMessageBytes: max, mergeTimeoutMs: 1000, mergeCapacity: 8,
  };
  const node = await startNodeProcesses([cfg], { maxMessageBytes: max });
  try {
    const viaHop = (await run(nodePort!, senderPort!)).latencyMs.p50;
    return { direct, viaHop, added: viaHop - direct };
  } finally {
    await node.stop();
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { preset: { type: 'string' }, frames: { type: 'string' }, engine: { type: 'string' }, rounds: { type: 'string' }, 'hop-frames': { type: 'string' }, 'skip-farm': { type: 'boolean' }, model: { type: 'string' }, stages: { type: 'string' }, models: { type: 'string' } },
    strict: true,
  });
  if (values.model) {
    // an imported model (pifarm model import): its stages against its whole graph
    const modelsDir = values.models ? resolve(values.models) : defaultModelsDir();
    if (!isImportedModel(modelsDir, values.model)) throw new Error(`--model ${values.model}: no imported model of that name in ${modelsDir} (the built-in models take --preset)`);
    await pipelineImported(modelsDir, values.model, Number(values.stages ?? 3), Number(values.frames ?? 200), Number(values.rounds ?? 3));
    return;
  }
  const preset = values.preset ?? 'alexnet-6';
  const p = findPreset(preset);
  const engine = (values.engine ?? 'onnx') as 'onnx' | 'tfjs';
  const frames = Number(values.frames ?? (p.model === 'vgg16' ? 60 : 200));
  const hopFrames = Number(values['hop-frames'] ?? 300);
  const cores = availableParallelism();
  if (!values['skip-farm']) {
    const rounds = Number(values.rounds ?? 3);
    const c = await compareFarm(preset, engine, frames, rounds);
    const f = (x: number) => x.toFixed(2);
    console.log(`pipeline ${preset} (${engine}), ${cores} cores, ${frames} farm frames per round, ${rounds} interleaved rounds (medians)`);
    console.log(`  local farm: ${c.processes} processes x 1 thread   ${f(c.farm.ips)} IPS  (p50 latency ${c.farm.p50.toFixed(1)} ms)  CPU ${c.farm.cpuMsPerFrame.toFixed(1)} ms/frame`);
    console.log(`  whole model, 1 process, 1 thread          ${f(c.whole1.ips)} IPS   farm/whole ${f(c.farm.ips / c.whole1.ips)}x  CPU ${c.whole1.cpuMsPerFrame.toFixed(1)} ms/frame`);
    console.log(`  whole model, 1 process, ${c.sameThreads} threads         ${f(c.wholeN.ips)} IPS   farm/whole ${f(c.farm.ips / c.wholeN.ips)}x  CPU ${c.wholeN.cpuMsPerFrame.toFixed(1)} ms/frame  (target >= 0.8x)`);
    console.log(`  CPU per frame, farm / whole model (1 thread): ${f(c.farm.cpuMsPerFrame / c.whole1.cpuMsPerFrame)}x`);
    console.log(`  rounds (IPS): farm ${c.rounds.farm.map(f).join(' ')} | whole 1t ${c.rounds.whole1.map(f).join(' ')} | whole ${c.sameThreads}t ${c.rounds.wholeN.map(f).join(' ')}`);
  }
  console.log(`added latency per hop on loopback (p50 of ${hopFrames} frames, window 1):`);
  for (const [label, bytes] of [['25 KB', 6272 * 4], ['100 KB', 25088 * 4], ['3.2 MB', 112 * 112 * 64 * 4]] as const) {
    const h = await hopLatency(bytes, hopFrames);
    console.log(`  ${label.padEnd(7)} direct ${h.direct.toFixed(3)} ms   via one node ${h.viaHop.toFixed(3)} ms   added ${h.added.toFixed(3)} ms${label === '100 KB' ? `  (target <= 1 ms: ${h.added <= 1 ? 'ok' : 'ABOVE'})` : ''}`);
  }
}
