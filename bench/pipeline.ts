// `npm run bench -- pipeline [--preset P] [--frames N] [--engine onnx|tfjs] [--hop-frames N]`
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
import { launchLocalFarm, startNodeProcesses } from '../src/farm/local-launch.js';
import { freePorts } from '../src/farm/local-ports.js';
import type { NodeConfig } from '../src/runtime/config.js';
import { randomFrame } from '../src/runtime/frames.js';
import { runSender } from '../src/runtime/sender.js';
import { frameToFloat } from '../src/runtime/tensor.js';

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** IPS and CPU ms per frame of the whole model in this process, frames one after another. */
export async function wholeModelIps(model: string, engineName: 'onnx' | 'tfjs', threads: number, frames: number): Promise<{ ips: number; cpuMsPerFrame: number }> {
  const spec = loadModelSpec(model);
  const engine = await createEngine(engineName, { threads });
  const block = await engine.load({ model: spec, layers: spec.layers.map((l) => l.name), seed: DEFAULT_SEED, threads });
  const len = spec.input.reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: 4 }, (_, i) => randomFrame(1, i, len));
  for (let i = 0; i < 3; i++) await block.run(frameToFloat(inputs[i % 4]!));
  const t0 = performance.now();
  const c0 = cpuNow();
  for (let i = 0; i < frames; i++) await block.run(frameToFloat(inputs[i % 4]!));
  const ms = performance.now() - t0;
  const cpu = cpuNow() - c0;
  await block.dispose();
  return { ips: (frames * 1000) / ms, cpuMsPerFrame: cpu / frames };
}

/** IPS of the local farm, and CPU ms per frame summed over every node process and the sender. */
export async function farmIps(preset: string, engine: 'onnx' | 'tfjs', frames: number): Promise<{ ips: number; processes: number; p50: number; cpuMsPerFrame: number }> {
  const p = findPreset(preset);
  const spec = loadModelSpec(p.model);
  const farm = await launchLocalFarm({ model: p.model, stages: p.stages, engine, threads: 1, seed: DEFAULT_SEED });
  try {
    const processes = farm.nodes.length;
    const before = (await farm.stats()).reduce((a, x) => a + x.cpuMs, 0) + cpuNow();
    const r = await runSender({
      input: spec.input,
      first: farm.first,
      lastShards: farm.lastShards,
      listen: { host: '127.0.0.1', port: farm.senderPort },
      frames,
      warmup: Math.max(5, Math.round(frames / 10)),
      window: Math.min(32, 2 * processes),
      sampleIds: [],
      maxMessageBytes: farm.maxMessageBytes,
    });
    const after = (await farm.stats()).reduce((a, x) => a + x.cpuMs, 0) + cpuNow();
    return { ips: r.ips, processes, p50: r.latencyMs.p50, cpuMsPerFrame: (after - before) / r.completed };
  } finally {
    await farm.stop();
  }
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
    options: { preset: { type: 'string' }, frames: { type: 'string' }, engine: { type: 'string' }, 'hop-frames': { type: 'string' }, 'skip-farm': { type: 'boolean' } },
    strict: true,
  });
  const preset = values.preset ?? 'alexnet-6';
  const p = findPreset(preset);
  const engine = (values.engine ?? 'onnx') as 'onnx' | 'tfjs';
  const frames = Number(values.frames ?? (p.model === 'vgg16' ? 60 : 200));
  const hopFrames = Number(values['hop-frames'] ?? 300);
  const cores = availableParallelism();
  if (!values['skip-farm']) {
    const farm = await farmIps(preset, engine, frames);
    const sameThreads = Math.min(farm.processes, cores);
    const whole1 = await wholeModelIps(p.model, engine, 1, frames);
    const wholeN = sameThreads === 1 ? whole1 : await wholeModelIps(p.model, engine, sameThreads, frames);
    // CPU per frame does not depend on what else runs on the machine; IPS does (shared cores).
    console.log(`pipeline ${preset} (${engine}), ${cores} cores, ${frames} frames`);
    console.log(`  local farm: ${farm.processes} processes x 1 thread   ${farm.ips.toFixed(2)} IPS  (p50 latency ${farm.p50.toFixed(1)} ms)  CPU ${farm.cpuMsPerFrame.toFixed(1)} ms/frame`);
    console.log(`  whole model, 1 process, 1 thread          ${whole1.ips.toFixed(2)} IPS   farm/whole ${(farm.ips / whole1.ips).toFixed(2)}x  CPU ${whole1.cpuMsPerFrame.toFixed(1)} ms/frame`);
    console.log(`  whole model, 1 process, ${sameThreads} threads         ${wholeN.ips.toFixed(2)} IPS   farm/whole ${(farm.ips / wholeN.ips).toFixed(2)}x  CPU ${wholeN.cpuMsPerFrame.toFixed(1)} ms/frame  (target >= 0.8x)`);
    console.log(`  CPU overhead of the farm: ${(farm.cpuMsPerFrame / whole1.cpuMsPerFrame).toFixed(2)}x the whole model's CPU per frame`);
  }
  console.log(`added latency per hop on loopback (p50 of ${hopFrames} frames, window 1):`);
  for (const [label, bytes] of [['25 KB', 6272 * 4], ['100 KB', 25088 * 4], ['3.2 MB', 112 * 112 * 64 * 4]] as const) {
    const h = await hopLatency(bytes, hopFrames);
    console.log(`  ${label.padEnd(7)} direct ${h.direct.toFixed(3)} ms   via one node ${h.viaHop.toFixed(3)} ms   added ${h.added.toFixed(3)} ms${label === '100 KB' ? `  (target <= 1 ms: ${h.added <= 1 ? 'ok' : 'ABOVE'})` : ''}`);
  }
}
