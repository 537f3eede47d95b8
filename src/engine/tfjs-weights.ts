// Kernels in the layout TensorFlow.js wants, built from the unit-major kernels of model/weights.ts.
// kernelUnits gives dense [unit][in] and conv [filter][kh][kw][cin]; tfjs matMul wants [in][units]
// and conv2d [kh][kw][cin][filters]. Both are the same 2-D transpose of [units][perUnit] into
// [perUnit][units]. It happens once at load, in pieces of units, so the temporary unit-major
// copy stays small (VGG16 fc1 is 411 MB whole) and only the requested units are ever generated.
// (matMul with transposeB on the unit-major kernel avoids the copy but ran 5x slower in tfjs wasm.)
import type { LayerInfo } from '../model/shapes.js';
import { kernelUnits } from '../model/weights.js';

/** Floats of unit-major kernel generated per piece (16 MB). */
const PIECE_FLOATS = 1 << 22;
/** Rows of the output written per pass over one unit: keeps the written lines in cache. */
const TILE = 64;

/** Weights per output unit: dense inputs, or kh*kw*cin of a conv filter. */
export function weightsPerUnit(info: LayerInfo): number {
  const { layer } = info;
  if (layer.type === 'dense') return info.inShape[0]!;
  if (layer.type === 'conv') return layer.kernel! * layer.kernel! * info.inShape[2]!;
  throw new Error(`layer ${layer.name} (${layer.type}) has no weights`);
}

/** Kernel of units [start, end) as [perUnit][end-start] (input-major). */
export function inputMajorKernel(model: string, info: LayerInfo, seed: number, start: number, end: number): Float32Array {
  const units = end - start;
  const perUnit = weightsPerUnit(info);
  const out = new Float32Array(units * perUnit);
  const step = Math.max(1, Math.floor(PIECE_FLOATS / perUnit));
  for (let u0 = start; u0 < end; u0 += step) {
    const u1 = Math.min(end, u0 + step);
    const piece = kernelUnits(model, info, seed, u0, u1);
    const n = u1 - u0;
    const col0 = u0 - start;
    for (let i0 = 0; i0 < perUnit; i0 += TILE) {
      const i1 = Math.min(perUnit, i0 + TILE);
      for (let j = 0; j < n; j++) {
        const src = j * perUnit;
        const col = col0 + j;
        for (let i = i0; i < i1; i++) out[i * units + col] = piece[src + i]!;
      }
    }
  }
  return out;
}
