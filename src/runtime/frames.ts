// The frames the sender streams: random 224x224x3 uint8 images as in the paper, deterministic per
// (seed, frame id) so the output check can regenerate any frame without storing it; or one real
// image (raw RGB bytes, or a binary PPM) sent as every frame.
import { readFileSync } from 'node:fs';
import { mix32 } from '../model/prng.js';

export class ImageError extends Error {}

/** Frame `id` of the stream seeded by `seed`: `h*w*c` uniform random bytes. */
export function randomFrame(seed: number, id: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, length >>> 2);
  let a = mix32(seed >>> 0, id >>> 0);
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  for (let i = 0; i < words.length; i++) words[i] = next();
  for (let i = words.length * 4; i < length; i++) out[i] = next() & 255;
  return out;
}

/**
 * An image of exactly h x w x 3 bytes: a `.ppm` (P6, maxval 255) or raw interleaved RGB bytes
 * (any other name). No resizing: the message says what size is needed.
 */
export function loadImage(path: string, shape: readonly [number, number, number]): Uint8Array {
  const [h, w, c] = shape;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageError(`${path}: cannot read the image: ${(e as Error).message}`);
  }
  if (bytes.subarray(0, 2).toString('latin1') === 'P6') {
    // Header: P6 <ws> width <ws> height <ws> maxval <one ws> data; comments start with #.
    const fields: string[] = [];
    let i = 2;
    while (fields.length < 3 && i < bytes.length) {
      const ch = String.fromCharCode(bytes[i]!);
      if (ch === '#') {
        while (i < bytes.length && bytes[i] !== 10) i++;
      } else if (/\s/.test(ch)) {
        i++;
      } else {
        let tok = '';
        while (i < bytes.length && !/\s/.test(String.fromCharCode(bytes[i]!))) tok += String.fromCharCode(bytes[i++]!);
        fields.push(tok);
      }
    }
    const [pw, ph, max] = fields.map(Number);
    if (max !== 255) throw new ImageError(`${path}: PPM maxval ${fields[2]}, only 255 (8-bit) is supported`);
    if (pw !== w || ph !== h || c !== 3) throw new ImageError(`${path}: PPM image is ${pw}x${ph}, the model needs ${w}x${h} RGB; resize it first (e.g. convert in.jpg -resize ${w}x${h}! out.ppm)`);
    const data = bytes.subarray(i + 1, i + 1 + h * w * c);
    if (data.length !== h * w * c) throw new ImageError(`${path}: PPM data has ${data.length} bytes, expected ${h * w * c}`);
    return new Uint8Array(data);
  }
  if (bytes.length !== h * w * c) {
    throw new ImageError(`${path}: ${bytes.length} bytes; a raw image must be ${h}x${w}x${c} = ${h * w * c} bytes of interleaved RGB (or give a .ppm)`);
  }
  return new Uint8Array(bytes);
}
