// The tfjs engine against a hand-written reference (AlexNet conv1 + pool1 at a few output
// positions, including the asymmetric "same" padding at the bottom-right border), shard slicing,
// and its refusals. The cross-engine check of every preset block is in equality.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTfjsEngine } from '../../src/engine/tfjs.js';
import { EngineError, type Engine } from '../../src/engine/engine.js';
import { loadModelSpec } from '../../src/model/spec.js';
import { layerInfos } from '../../src/model/shapes.js';
import { kernelUnits } from '../../src/model/weights.js';
import { fillUniform } from '../../src/model/prng.js';

const SEED = 7;
const alexnet = loadModelSpec('alexnet');

let enginePromise: Promise<Engine> | undefined;
const engine = (): Promise<Engine> => (enginePromise ??= createTfjsEngine());

/** Deterministic pseudo-random input in [0, 1). */
function input(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  fillUniform(x, 0, n, seed, 0.5);
  for (let i = 0; i < n; i++) x[i] = x[i]! + 0.5;
  return x;
}

test('describe() names the backend that really runs', async () => {
  const d = (await engine()).describe();
  assert.match(d, /^tfjs(-node)? \d+\.\d+\.\d+ /);
  assert.match(d, /wasm|TensorFlow/);
});

test('AlexNet conv1..pool1 equals a plain-TS conv + ReLU + max-pool at chosen positions', async () => {
  const e = await engine();
  const [conv1] = layerInfos(alexnet);
  const [H, W, C] = conv1!.inShape as [number, number, number];
  const K = conv1!.layer.kernel!;
  const S = conv1!.layer.stride!;
  const F = conv1!.layer.filters!;
  const x = input(H * W * C, 11);
  const block = await e.load({ model: alexnet, layers: ['conv1', 'pool1'], seed: SEED });
  assert.deepEqual(block.inputShape, [224, 224, 3]);
  assert.deepEqual(block.outputShape, [28, 28, 48]);
  const y = await block.run(x);
  await block.dispose();
  assert.equal(y.length, 28 * 28 * 48);

  // Keras/TF "same": conv output 56 = ceil(224/4), total padding (56-1)*4+11-224 = 7, 3 before.
  const kernel = kernelUnits('alexnet', conv1!, SEED, 0, F); // [f][kh][kw][cin]
  const padTop = 3;
  const convAt = (cy: number, cx: number, f: number): number => {
    let acc = 0;
    for (let kh = 0; kh < K; kh++) {
      const iy = cy * S + kh - padTop;
      if (iy < 0 || iy >= H) continue;
      for (let kw = 0; kw < K; kw++) {
        const ix = cx * S + kw - padTop;
        if (ix < 0 || ix >= W) continue;
        for (let c = 0; c < C; c++) acc += x[(iy * W + ix) * C + c]! * kernel[((f * K + kh) * K + kw) * C + c]!;
      }
    }
    return Math.max(acc, 0); // zero bias, ReLU
  };
  const poolAt = (py: number, px: number, f: number): number =>
    Math.max(convAt(2 * py, 2 * px, f), convAt(2 * py, 2 * px + 1, f), convAt(2 * py + 1, 2 * px, f), convAt(2 * py + 1, 2 * px + 1, f));

  let nonZero = 0;
  for (const [py, px, f] of [[0, 0, 0], [0, 27, 5], [27, 0, 17], [27, 27, 47], [13, 14, 30], [6, 21, 1], [20, 9, 40]] as const) {
    const want = poolAt(py, px, f);
    const got = y[(py * 28 + px) * 48 + f]!;
    if (want > 0) nonZero++;
    assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `pool1[${py},${px},${f}]: tfjs ${got}, reference ${want}`);
  }
  assert.ok(nonZero >= 3, 'the chosen positions should mostly be active (else the check is weak)');
});

test('shards of a dense layer are slices of the whole layer, with uneven sizes', async () => {
  const e = await engine();
  const x = input(4096, 3);
  const whole = await e.load({ model: alexnet, layers: ['fc2'], seed: SEED });
  const full = await whole.run(x);
  await whole.dispose();
  assert.deepEqual(whole.outputShape, [4096]);
  let offset = 0;
  for (let index = 0; index < 3; index++) {
    const part = await e.load({ model: alexnet, layers: ['fc2'], seed: SEED, shard: { index, count: 3 } });
    const y = await part.run(x);
    await part.dispose();
    assert.deepEqual(part.outputShape, [index === 0 ? 1366 : 1365]);
    assert.equal(y.length, part.outputShape[0]);
    for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i]! - full[offset + i]!) <= 1e-5 * Math.max(1, Math.abs(full[offset + i]!)), `shard ${index} unit ${i}`);
    offset += y.length;
  }
  assert.equal(offset, 4096);
});

test('a block without weights runs, returns owned outputs, checks its input and refuses use after dispose', async () => {
  const e = await engine();
  const block = await e.load({ model: alexnet, layers: ['pool3', 'flatten'], seed: SEED });
  assert.deepEqual(block.inputShape, [14, 14, 128]);
  assert.deepEqual(block.outputShape, [6272]);
  const x = input(14 * 14 * 128, 5);
  const y = await block.run(x);
  // max-pool 2x2/2 then NHWC flatten: output (0,0,c) is the max of input rows 0-1, cols 0-1.
  for (const c of [0, 77, 127]) {
    const want = Math.max(x[c]!, x[128 + c]!, x[14 * 128 + c]!, x[15 * 128 + c]!);
    assert.equal(y[c], want);
  }
  // Each output is the caller's own copy: a later run (here on zeros) must not change it.
  const before = Float32Array.from(y);
  const zeros = await block.run(new Float32Array(x.length));
  assert.ok(zeros.every((v) => v === 0));
  assert.deepEqual(y, before);
  await assert.rejects(block.run(new Float32Array(10)), (err: Error) => err instanceof EngineError && /expects 25088/.test(err.message));
  await block.dispose();
  await assert.rejects(block.run(x), /disposed/);
});

test('bad block requests get clear errors before any weight is made', async () => {
  const e = await engine();
  await assert.rejects(e.load({ model: alexnet, layers: ['conv1', 'conv2'], seed: 1 }), /contiguous/);
  await assert.rejects(e.load({ model: alexnet, layers: ['nope'], seed: 1 }), /unknown layer "nope".*valid layers: conv1/);
  await assert.rejects(e.load({ model: alexnet, layers: ['conv5', 'pool3'], seed: 1, shard: { index: 0, count: 2 } }), /exactly one dense layer/);
  await assert.rejects(e.load({ model: alexnet, layers: ['fc3'], seed: 1, shard: { index: 0, count: 2 } }), /softmax/);
  await assert.rejects(e.load({ model: alexnet, layers: ['fc1'], seed: 1, shard: { index: 2, count: 2 } }), /0 <= index < count/);
});
