// `npm run bench -- pipeline --model NAME [--stages N] [--frames N] [--rounds N]` for an imported
// model: its stages at balanced cut points as a local farm (lab/imported-demo.ts) against the
// whole graph in one process with one thread, in interleaved rounds.
import { createEngine } from '../src/engine/index.js';
import { graphPath, loadImportedModel } from '../src/model/imported.js';
import { runImportedDemo } from '../src/lab/imported-demo.js';
import { randomFrame } from '../src/runtime/frames.js';
import { frameToFloat } from '../src/runtime/tensor.js';

const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;

export async function pipelineImported(modelsDir: string, name: string, stages: number, frames: number, rounds: number): Promise<void> {
  const m = loadImportedModel(modelsDir, name);
  const engine = await createEngine('onnx', { threads: 1 });
  const whole = await engine.loadGraph!({ graph: graphPath(modelsDir, m), input: m.input.name, inputShape: m.input.dims.slice(1), outputShape: m.output.dims.slice(1), preprocess: { ...m.preprocess, layout: m.input.layout }, threads: 1 });
  const len = m.input.shape.reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: 4 }, (_, i) => frameToFloat(randomFrame(1, i, len)));
  for (let i = 0; i < 3; i++) await whole.run(inputs[i]!.slice());
  const farm: number[] = [];
  const one: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const f = await runImportedDemo({ modelsDir, model: m, stages, frames, warmup: Math.max(5, Math.round(frames / 10)), log: () => {} });
    if (!f.check.ok) throw new Error(`round ${r}: the farm's outputs differ from the whole model's (max |diff| ${f.check.maxAbsDiff})`);
    farm.push(f.ips);
    const t0 = performance.now();
    for (let i = 0; i < frames; i++) await whole.run(inputs[i % 4]!.slice());
    one.push((frames * 1000) / (performance.now() - t0));
  }
  await whole.dispose();
  const [fm, wm] = [median(farm), median(one)];
  console.log(`pipeline ${name} (imported, ${(m.macs / 1e6).toFixed(0)} M MACs): ${stages} stages at balanced cut points, ${frames} frames per round, ${rounds} interleaved rounds (medians)`);
  console.log(`  local farm, ${stages} processes x 1 thread   ${fm.toFixed(2)} IPS`);
  console.log(`  whole graph, 1 process, 1 thread     ${wm.toFixed(2)} IPS   farm/whole ${(fm / wm).toFixed(2)}x`);
  console.log(`  rounds (IPS): farm ${farm.map((x) => x.toFixed(1)).join(' ')} | whole ${one.map((x) => x.toFixed(1)).join(' ')}`);
}
