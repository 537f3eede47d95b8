// Deterministic weights: Glorot-uniform kernels and zero biases, as Keras initialises them, drawn
// from a seeded stream per (model, layer, seed, output unit). Because every output unit (dense
// column, conv filter) has its own stream, a model-parallel shard generates only its own units
// and they equal the same units of the whole layer, bit for bit.
import { fillUniform, hashString, mix32 } from './prng.js';
import type { LayerInfo } from './shapes.js';

export const DEFAULT_SEED = 2018;

/**
 * Kernel of a conv or dense layer for output units [start, end), laid out unit-major:
 * dense: [unit][in]  (what ONNX Gemm wants with transB=1)
 * conv:  [filter][kh][kw][cin]  (Keras' HWIO with the output axis first)
 */
export function kernelUnits(model: string, info: LayerInfo, seed: number, start: number, end: number): Float32Array {
  const { layer } = info;
  let perUnit: number;
  let fanIn: number;
  let fanOut: number;
  if (layer.type === 'dense') {
    perUnit = info.inShape[0]!;
    fanIn = perUnit;
    fanOut = layer.units!;
  } else if (layer.type === 'conv') {
    const k = layer.kernel!;
    const cin = info.inShape[2]!;
    perUnit = k * k * cin;
    fanIn = k * k * cin;
    fanOut = k * k * layer.filters!;
  } else {
    throw new Error(`layer ${layer.name} (${layer.type}) has no weights`);
  }
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const base = mix32(hashString(`${model}/${layer.name}`), seed >>> 0);
  const out = new Float32Array((end - start) * perUnit);
  for (let u = start; u < end; u++) fillUniform(out, (u - start) * perUnit, perUnit, mix32(base, u), limit);
  return out;
}

/** Biases are zero, as Keras' default initialiser. */
export function biasUnits(start: number, end: number): Float32Array {
  return new Float32Array(end - start);
}
