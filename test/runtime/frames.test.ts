import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage, randomFrame } from '../../src/runtime/frames.js';
import { frameToFloat } from '../../src/runtime/tensor.js';

const dir = mkdtempSync(join(tmpdir(), 'pifarm-test-'));

test('random frames are deterministic per (seed, frame id) and differ between ids', () => {
  const a = randomFrame(1, 7, 150528);
  assert.deepEqual(randomFrame(1, 7, 150528), a);
  assert.notDeepEqual(randomFrame(1, 8, 150528), a);
  assert.notDeepEqual(randomFrame(2, 7, 150528), a);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(mean > 120 && mean < 135, `mean byte ${mean}`);
});

test('the first stage scales bytes by 1/255 into [0, 1]', () => {
  assert.deepEqual([...frameToFloat(new Uint8Array([0, 51, 255]))], [0, Math.fround(51 / 255), 1]);
});

test('a binary PPM of the right size loads, with comments in its header', () => {
  const pixels = Buffer.alloc(4 * 2 * 3, 9);
  const file = join(dir, 'ok.ppm');
  writeFileSync(file, Buffer.concat([Buffer.from('P6\n# made by a test\n4 2\n255\n'), pixels]));
  assert.deepEqual(loadImage(file, [2, 4, 3]), new Uint8Array(pixels));
});

test('an image of the wrong size or depth is refused with what to do', () => {
  const ppm = join(dir, 'big.ppm');
  writeFileSync(ppm, Buffer.concat([Buffer.from('P6 8 8 255\n'), Buffer.alloc(8 * 8 * 3)]));
  assert.throws(() => loadImage(ppm, [224, 224, 3]), /big\.ppm: PPM image is 8x8, the model needs 224x224 RGB; resize it first/);
  const deep = join(dir, 'deep.ppm');
  writeFileSync(deep, Buffer.concat([Buffer.from('P6 2 2 65535\n'), Buffer.alloc(24)]));
  assert.throws(() => loadImage(deep, [2, 2, 3]), /maxval 65535, only 255/);
  const raw = join(dir, 'x.rgb');
  writeFileSync(raw, Buffer.alloc(100));
  assert.throws(() => loadImage(raw, [224, 224, 3]), /x\.rgb: 100 bytes; a raw image must be 224x224x3 = 150528 bytes/);
  assert.throws(() => loadImage(join(dir, 'missing.rgb'), [224, 224, 3]), /missing\.rgb: cannot read the image/);
});
