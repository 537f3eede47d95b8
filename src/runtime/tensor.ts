// Tensors on the wire and in memory. The wire carries raw little-endian bytes with a shape and a
// dtype; in memory a stage works on a Float32Array (NHWC, no batch dimension).
//
// THE one place where the camera frame becomes a float tensor: the first stage divides every
// uint8 value by 255, giving float32 in [0, 1]. The whole-model reference of the output check
// (runtime/reference.ts) calls the same function, so both sides agree bit for bit.
import { endianness } from 'node:os';
import type { DType, Tensor } from './protocol.js';

const LITTLE = endianness() === 'LE';

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function bytesPerValue(dtype: DType): number {
  return dtype === 'uint8' ? 1 : 4;
}

/** x / 255 for every byte value, rounded to float32 once: a table look-up is the same value, faster. */
const SCALE = Float32Array.from({ length: 256 }, (_, x) => x / 255);

/** uint8 frame (0..255) -> float32 in [0, 1], x / 255. */
export function frameToFloat(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = SCALE[bytes[i]!]!;
  return out;
}

/** A float32 tensor's wire form; no copy on little-endian hosts (every Pi and x86). */
export function floatTensor(values: Float32Array, shape: number[]): Tensor {
  let data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (!LITTLE) {
    data = Buffer.from(data);
    data.swap32();
  }
  return { dtype: 'float32', shape, data };
}

export function uint8Tensor(bytes: Uint8Array, shape: number[]): Tensor {
  return { dtype: 'uint8', shape, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The float32 values of a wire tensor; copies only when the bytes are unaligned or big-endian is needed. */
export function floatValues(t: Tensor): Float32Array {
  const d = t.data;
  if (LITTLE && d.byteOffset % 4 === 0) return new Float32Array(d.buffer, d.byteOffset, d.byteLength / 4);
  const copy = Buffer.from(d);
  if (!LITTLE) copy.swap32();
  return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
}

/** The input values of a stage: a uint8 frame is scaled to [0, 1], a float32 tensor read as is. */
export function stageInput(t: Tensor): Float32Array {
  return t.dtype === 'uint8' ? frameToFloat(t.data) : floatValues(t);
}

/**
 * Why a tensor is not what a stage expects, or null when it is. `shape` null accepts any shape
 * whose byte length matches (an identity hop).
 */
export function tensorProblem(t: Tensor, dtype: DType, shape: readonly number[] | null): string | null {
  if (t.dtype !== dtype) return `dtype ${t.dtype}, expected ${dtype}`;
  if (!Array.isArray(t.shape) || t.shape.some((n) => !Number.isInteger(n) || n < 0)) return `bad shape [${String(t.shape)}]`;
  if (shape && (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i]))) {
    return `shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`;
  }
  const want = size(t.shape) * bytesPerValue(t.dtype);
  if (t.data.length !== want) return `${t.data.length} bytes for shape [${t.shape.join(', ')}] ${t.dtype}, expected ${want}`;
  return null;
}

/** Concatenates shard outputs (flat vectors) in shard order. */
export function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
