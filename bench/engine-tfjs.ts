// tfjs engine speed: each model as one block (load time, then median ms per frame after warm-up)
// and per preset stage, so the planner's tfjs figures can be checked. Not a test: prints figures.
// Run: npm run build && node dist/bench/engine-tfjs.js [--model alexnet|vgg16] [--frames N]
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createTfjsEngine } from '../src/engine/tfjs.js';
import { loadModelSpec } from '../src/model/spec.js';
import { size, stageInfos } from '../src/model/shapes.js';
import { DEFAULT_SEED } from '../src/model/weights.js';
import type { BlockRequest, Engine } from '../src/engine/engine.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(engine: Engine, req: BlockRequest, frames: number): Promise<{ loadMs: number; ms: number }> {
  let t = performance.now();
  const block = await engine.load(req);
  const loadMs = performance.now() - t;
  const x = new Float32Array(size(block.inputShape)).map((_, i) => (i % 251) / 255);
  await block.run(x); // warm-up: first-call allocations and kernel set-up
  await block.run(x);
  const ms: number[] = [];
  for (let i = 0; i < frames; i++) {
    t = performance.now();
    await block.run(x);
    ms.push(performance.now() - t);
  }
  await block.dispose();
  return { loadMs, ms: median(ms) };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string' }, frames: { type: 'string' }, stages: { type: 'boolean' } } });
  const engine = await createTfjsEngine();
  console.log(`tfjs engine: ${engine.describe()}; median of the frames after 2 warm-up runs`);
  for (const m of values.model ? [values.model] : ['alexnet', 'vgg16']) {
    const model = loadModelSpec(m);
    const frames = Number(values.frames ?? (m === 'vgg16' ? 5 : 30));
    const whole = await measure(engine, { model, layers: model.layers.map((l) => l.name), seed: DEFAULT_SEED }, frames);
    console.log(`${m.padEnd(8)} whole model  load ${whole.loadMs.toFixed(0).padStart(6)} ms  ${whole.ms.toFixed(1).padStart(8)} ms/frame  ${(1000 / whole.ms).toFixed(2).padStart(7)} IPS`);
    if (!values.stages) continue;
    const seen = new Set<string>();
    for (const preset of model.presets) {
      for (const info of stageInfos(model, preset.stages)) {
        const key = `${info.stage.layers.join(',')}/${info.stage.shards}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const shard = info.stage.shards > 1 ? { index: 0, count: info.stage.shards } : undefined;
        const r = await measure(engine, { model, layers: info.stage.layers, seed: DEFAULT_SEED, ...(shard ? { shard } : {}) }, frames);
        const label = `${info.stage.role}${shard ? ` 1/${shard.count}` : ''}`;
        console.log(`${m.padEnd(8)} ${label.padEnd(12)} load ${r.loadMs.toFixed(0).padStart(6)} ms  ${r.ms.toFixed(1).padStart(8)} ms/frame  ${(1000 / r.ms).toFixed(2).padStart(7)} IPS`);
      }
    }
  }
}

// Direct run (bench/main.ts imports run() instead).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
