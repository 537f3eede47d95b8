import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelSpec, findPreset } from '../../src/model/spec.js';
import { stageInfos } from '../../src/model/shapes.js';
import { createEngine } from '../../src/engine/index.js';
import { buildBlockGraph } from '../../src/engine/onnx-graph.js';

function input(n: number, salt = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 2654435761 + salt) >>> 24) / 255;
  return x;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('AlexNet through the alexnet-5 stages equals the whole model in one block', async () => {
  const spec = loadModelSpec('alexnet');
  const engine = await createEngine('onnx', { threads: 1 });
  const whole = await engine.load({ model: spec, layers: spec.layers.map((l) => l.name), seed: 2018 });
  const x = input(224 * 224 * 3);
  const expected = await whole.run(x);
  assert.equal(expected.length, 1000);
  assert.ok(Math.abs(expected.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'softmax sums to 1');

  const stages = findPreset('alexnet-5').stages;
  const [b1, fc1, fc2] = stages;
  const block1 = await engine.load({ model: spec, layers: b1!.layers, seed: 2018 });
  const conv = await block1.run(x);
  assert.equal(conv.length, 6272);
  const halves = [];
  for (let i = 0; i < 2; i++) {
    const shard = await engine.load({ model: spec, layers: fc1!.layers, seed: 2018, shard: { index: i, count: 2 } });
    assert.deepEqual(shard.outputShape, [2048]);
    halves.push(await shard.run(conv));
    await shard.dispose();
  }
  const merged = new Float32Array(4096);
  merged.set(halves[0]!, 0);
  merged.set(halves[1]!, 2048);
  const last = await engine.load({ model: spec, layers: fc2!.layers, seed: 2018 });
  const got = await last.run(merged);
  assert.ok(maxAbsDiff(got, expected) < 1e-6, `distributed output differs by ${maxAbsDiff(got, expected)}`);
  // A different seed gives a different network.
  const other = await engine.load({ model: spec, layers: fc2!.layers, seed: 1 });
  assert.ok(maxAbsDiff(await other.run(merged), expected) > 0);
});

test('a block graph holds only its own layers\' weights', () => {
  const spec = loadModelSpec('vgg16');
  const stages = stageInfos(spec, findPreset('vgg16-9').stages);
  for (const s of stages) {
    for (let i = 0; i < s.stage.shards; i++) {
      const g = buildBlockGraph(spec, s.stage.layers, 2018, { index: i, count: s.stage.shards });
      // Graph (conv weights) plus dense weight feeds: the stage's weights plus a few KB of
      // structure; never the whole model (553 MB).
      const bytes = g.bytes.byteLength + g.weightFeeds.reduce((a, w) => a + w.data.byteLength, 0);
      assert.ok(bytes >= s.paramBytes && bytes < s.paramBytes + 64 * 1024, `${s.stage.role}: ${bytes} bytes for ${s.paramBytes} of weights`);
    }
  }
});

test('a wrong input size is refused with the expected shape', async () => {
  const spec = loadModelSpec('alexnet');
  const engine = await createEngine('onnx');
  const b = await engine.load({ model: spec, layers: ['fc2', 'fc3'], seed: 2018 });
  await assert.rejects(b.run(new Float32Array(10)), /input has 10 values, the block expects 4096/);
  await assert.rejects(engine.load({ model: spec, layers: ['fc1', 'fc3'], seed: 1 }), /contiguous/);
  await assert.rejects(createEngine('tensorrt'), /unknown engine "tensorrt"; valid engines: onnx, tfjs/);
});

test('odd spatial sizes pad like Keras "same" (VGG16 block5 on 14x14 -> 7x7)', async () => {
  const spec = loadModelSpec('vgg16');
  const engine = await createEngine('onnx');
  const b = await engine.load({ model: spec, layers: ['conv5_1', 'conv5_2', 'conv5_3', 'pool5', 'flatten'], seed: 2018 });
  assert.deepEqual(b.inputShape, [14, 14, 512]);
  const y = await b.run(input(14 * 14 * 512));
  assert.equal(y.length, 25088);
  assert.ok(y.every((v) => v >= 0), 'ReLU output');
});
