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

interface Figures {
  loadMs: number;
  /** median wall time per frame */
  ms: number;
  /** mean CPU time per frame: on a shared machine this is what an idle one would show as wall time (wasm runs one thread) */
  cpuMs: number;
}

async function measure(engine: Engine, req: BlockRequest, frames: number): Promise<Figures> {
  let t = performance.now();
  const block = await engine.load(req);
  const loadMs = performance.now() - t;
  const x = new Float32Array(size(block.inputShape)).map((_, i) => (i % 251) / 255);
  await block.run(x); // warm-up: first-call allocations and kernel set-up
  await block.run(x);
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < frames; i++) {
    t = performance.now();
    await block.run(x);
    ms.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  await block.dispose();
  return { loadMs, ms: median(ms), cpuMs: (cpu.user + cpu.system) / 1000 / frames };
}

function line(m: string, label: string, f: Figures): string {
  return `${m.padEnd(8)} ${label.padEnd(12)} load ${f.loadMs.toFixed(0).padStart(6)} ms  ${f.ms.toFixed(1).padStart(8)} ms/frame  ${(1000 / f.ms).toFixed(2).padStart(7)} IPS  (cpu ${f.cpuMs.toFixed(1)} ms/frame = ${(1000 / f.cpuMs).toFixed(2)} IPS)`;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string' }, frames: { type: 'string' }, stages: { type: 'boolean' } } });
  const engine = await createTfjsEngine();
  console.log(`tfjs engine: ${engine.describe()}; median of the frames after 2 warm-up runs`);
  for (const m of values.model ? [values.model] : ['alexnet', 'vgg16']) {
    const model = loadModelSpec(m);
    const frames = Number(values.frames ?? (m === 'vgg16' ? 5 : 30));
    const whole = await measure(engine, { model, layers: model.layers.map((l) => l.name), seed: DEFAULT_SEED }, frames);
    console.log(line(m, 'whole model', whole));
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
        console.log(line(m, label, r));
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
