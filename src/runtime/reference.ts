// The output check's reference: the whole model as one block in this process, fed the same frames
// the sender sent (regenerated from the seed and frame id) through the same uint8 -> float
// conversion as the first stage. Distributed and whole outputs must agree within a tolerance.
import type { Engine, LoadedBlock } from '../engine/engine.js';
import type { ModelSpec } from '../model/spec.js';
import { randomFrame } from './frames.js';
import { frameToFloat } from './tensor.js';

export interface CheckResult {
  compared: number;
  maxAbsDiff: number;
  tolerance: number;
  ok: boolean;
  /** frames whose top-1 class differs (informational: near-ties of random weights may flip) */
  top1Mismatches: number;
}

export const DEFAULT_TOLERANCE = 1e-4;

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

export async function checkOutputs(o: {
  engine: Engine;
  spec: ModelSpec;
  weightSeed: number;
  frameSeed: number;
  threads?: number;
  /** frame id -> distributed output; `image` set: every frame was that image */
  samples: Map<number, Float32Array>;
  image?: Uint8Array;
  /** frame id -> its input, for frames from a source */
  inputs?: Map<number, Uint8Array>;
  tolerance?: number;
}): Promise<CheckResult> {
  if (o.samples.size === 0) return { compared: 0, maxAbsDiff: NaN, tolerance: o.tolerance ?? DEFAULT_TOLERANCE, ok: false, top1Mismatches: 0 };
  const block = await o.engine.load({ model: o.spec, layers: o.spec.layers.map((l) => l.name), seed: o.weightSeed, threads: o.threads });
  return checkWithBlock({ ...o, block, inputLength: o.spec.input.reduce((a, b) => a * b, 1) });
}

/** The same check against any whole-model block (an imported model's graph); disposes of it. */
export async function checkWithBlock(o: { block: LoadedBlock; inputLength: number; frameSeed: number; samples: Map<number, Float32Array>; image?: Uint8Array; inputs?: Map<number, Uint8Array>; tolerance?: number }): Promise<CheckResult> {
  const tolerance = o.tolerance ?? DEFAULT_TOLERANCE;
  const { block } = o;
  const len = o.inputLength;
  if (o.samples.size === 0) {
    await block.dispose();
    return { compared: 0, maxAbsDiff: NaN, tolerance, ok: false, top1Mismatches: 0 };
  }
  let maxAbsDiff = 0;
  let top1Mismatches = 0;
  try {
    for (const [id, got] of o.samples) {
      const want = await block.run(frameToFloat(o.inputs?.get(id) ?? o.image ?? randomFrame(o.frameSeed, id, len)));
      if (want.length !== got.length) throw new Error(`frame ${id}: distributed output has ${got.length} values, the whole model ${want.length}`);
      for (let i = 0; i < want.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(want[i]! - got[i]!));
      if (argmax(want) !== argmax(got)) top1Mismatches++;
    }
  } finally {
    await block.dispose();
  }
  return { compared: o.samples.size, maxAbsDiff, tolerance, ok: maxAbsDiff <= tolerance, top1Mismatches };
}
