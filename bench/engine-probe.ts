// One engine build on one model, in its own process (two onnxruntime releases cannot share one:
// both libraries have the same soname): node dist/bench/engine-probe.js MODEL BUILD FRAMES THREADS
// Prints one JSON line: the build, what really ran, load time and per-frame times. Run on this
// machine or inside a virtual Pi (bench/engine.ts --arch), where its times are qemu times.
import { createEngine } from '../src/engine/index.js';
import { loadModelSpec } from '../src/model/spec.js';
import { DEFAULT_SEED } from '../src/model/weights.js';

async function main(): Promise<void> {
  const [model = 'alexnet', build = 'auto', framesArg = '3', threadsArg = '1'] = process.argv.slice(2);
  const spec = loadModelSpec(model);
  const layers = spec.layers.map((l) => l.name);
  const threads = Number(threadsArg);
  const t0 = performance.now();
  const engine = await createEngine(build, { threads });
  const block = await engine.load({ model: spec, layers, seed: DEFAULT_SEED, threads });
  const loadMs = performance.now() - t0;
  const x = new Float32Array(224 * 224 * 3).map((_, i) => (i % 251) / 255);
  const first = await block.run(x); // warm-up: first-run allocations and pre-packing
  const frameMs: number[] = [];
  for (let i = 0; i < Number(framesArg); i++) {
    const t = performance.now();
    await block.run(x);
    frameMs.push(performance.now() - t);
  }
  let top = 0;
  for (let i = 1; i < first.length; i++) if (first[i]! > first[top]!) top = i;
  console.log(JSON.stringify({ build, engine: engine.describe(), arch: process.arch, loadMs, frameMs, top1: top, p: first[top] }));
  await block.dispose();
}

main().catch((e: unknown) => {
  console.error(`engine-probe: ${(e as Error).message}`);
  process.exit(1);
});
