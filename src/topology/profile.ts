// Measured layer times (`pifarm plan --profile local`): every layer of the model loaded alone in
// the engine and run a few times on this machine; the median becomes the device profile's
// layerSeconds, which the cost model uses instead of its formula.
import { totalmem } from 'node:os';
import { createEngine } from '../engine/index.js';
import { loadModelSpec } from '../model/spec.js';
import { size } from '../model/shapes.js';
import { DEFAULT_SEED } from '../model/weights.js';
import { modelLayers, type DeviceProfile } from './cost-model.js';

export interface ProfileOptions {
  engine?: string;
  threads?: number;
  /** timed runs per layer after one warm-up (default 3) */
  runs?: number;
}

/** One warm-up run, then `runs` timed ones: the median, in seconds. */
export async function medianSeconds(run: () => Promise<unknown>, runs: number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

export async function profileLocal(model: string, opts: ProfileOptions = {}): Promise<DeviceProfile> {
  const spec = loadModelSpec(model);
  const engine = await createEngine(opts.engine ?? 'onnx', opts.threads !== undefined ? { threads: opts.threads } : {});
  const runs = opts.runs ?? 3;
  const layerSeconds: Record<string, number> = {};
  let convMacs = 0;
  let convS = 0;
  for (const li of modelLayers(model)) {
    const block = await engine.load({ model: spec, layers: [li.layer.name], seed: DEFAULT_SEED, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
    try {
      const input = new Float32Array(size(block.inputShape)).fill(0.5);
      layerSeconds[li.layer.name] = await medianSeconds(() => block.run(input), runs);
    } finally {
      await block.dispose();
    }
    if (li.layer.type === 'conv') {
      convMacs += li.macs;
      convS += layerSeconds[li.layer.name]!;
    }
  }
  // the same "effective GFLOPS" as PI3_EFFECTIVE_GFLOPS: 2 * conv MACs / conv seconds
  return { name: `local (${engine.describe()})`, gflops: (2 * convMacs) / convS / 1e9, ramMb: Math.round(totalmem() / 2 ** 20), layerSeconds };
}
