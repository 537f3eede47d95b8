// Child process of the calibration: loads one layer with the onnx engine and times it.
// Runs as its own process so it can be started inside a CPU-quota cgroup (see calibrate.ts).
// argv: <model> <layer[,layer...]> <repeats> <threads> [<shards>]: one layer, or a stage's layers
// (the dense layer split in <shards>, shard 0 timed); prints one JSON line {ms, cpuMs, gflop}: wall and CPU
// time of each run. CPU time is what tells this machine's per-core speed on a shared machine,
// where the wall time of an unthrottled run includes waiting for other processes' CPU.
import { createEngine } from '../../engine/index.js';
import { loadModelSpec } from '../../model/spec.js';
import { layerInfos } from '../../model/shapes.js';
import { DEFAULT_SEED } from '../../model/weights.js';

async function main(): Promise<void> {
  const [model = 'vgg16', layer = 'conv3_1', repeatsArg = '5', threadsArg = '1', shardsArg = '1'] = process.argv.slice(2);
  const spec = loadModelSpec(model);
  const layers = layer.split(',');
  const all = layerInfos(spec);
  const infos = layers.map((name) => {
    const info = all.find((l) => l.layer.name === name);
    if (!info) throw new Error(`model ${model} has no layer "${name}"`);
    return info;
  });
  const shards = Number(shardsArg);
  const engine = await createEngine('onnx', { threads: Number(threadsArg) });
  const block = await engine.load({ model: spec, layers, ...(shards > 1 ? { shard: { index: 0, count: shards } } : {}), seed: DEFAULT_SEED, threads: Number(threadsArg) });
  const x = new Float32Array(block.inputShape.reduce((a, b) => a * b, 1)).map((_, i) => (i % 97) / 97);
  await block.run(x); // warm-up: first run allocates and plans
  const ms: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < Number(repeatsArg); i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await block.run(x);
    ms.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpuMs.push((d.user + d.system) / 1000);
  }
  await block.dispose();
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, gflop: infos.reduce((a, i) => a + (2 * i.macs) / 1e9, 0) / shards })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
