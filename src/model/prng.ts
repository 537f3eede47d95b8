// A small, fast, seedable PRNG and string hashing, so weights are the same on every host
// without shipping them: (model, layer, seed, output unit) -> one independent stream.

/** FNV-1a over the UTF-16 code units of a string, 32 bits. */
export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes two 32-bit values into a well-spread seed (a murmur3 finaliser). */
export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Fills `out[offset .. offset+n)` with uniform floats in [-limit, limit) from a mulberry32 stream
 * seeded by `seed`. 24-bit resolution, exactly representable in float32.
 */
export function fillUniform(out: Float32Array, offset: number, n: number, seed: number, limit: number): void {
  let a = seed >>> 0;
  const scale = (2 * limit) / 16777216;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[offset + i] = ((t ^ (t >>> 14)) >>> 8) * scale - limit;
  }
}
