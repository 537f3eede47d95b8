import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelSpec, findPreset, parseModelSpec, parseStage, SpecError } from '../../src/model/spec.js';
import { layerInfos, stageInfos, totals, shardRange } from '../../src/model/shapes.js';
import { kernelUnits } from '../../src/model/weights.js';

test('VGG16 has 15.47 G MACs and 138.36 M parameters', () => {
  const t = totals(loadModelSpec('vgg16'));
  assert.equal((t.macs / 1e9).toFixed(2), '15.47');
  assert.equal((t.params / 1e6).toFixed(2), '138.36');
});

test('flatten sizes: AlexNet 6272, VGG16 25088', () => {
  for (const [m, n] of [['alexnet', 6272], ['vgg16', 25088]] as const) {
    const flat = layerInfos(loadModelSpec(m)).find((l) => l.layer.type === 'flatten')!;
    assert.deepEqual(flat.outShape, [n]);
  }
});

test('AlexNet shapes follow the single-stream paper net', () => {
  const infos = layerInfos(loadModelSpec('alexnet'));
  const shape = (n: string) => infos.find((i) => i.layer.name === n)!.outShape;
  assert.deepEqual(shape('conv1'), [56, 56, 48]);
  assert.deepEqual(shape('pool2'), [14, 14, 128]);
  assert.deepEqual(shape('pool3'), [7, 7, 128]);
  assert.deepEqual(shape('fc3'), [1000]);
});

test('the paper presets have the paper device counts and boundary sizes', () => {
  const devices = (name: string) => {
    const p = findPreset(name);
    return 1 + p.stages.reduce((a, s) => a + s.replicas * s.shards, 0);
  };
  assert.equal(devices('alexnet-5'), 5);
  assert.equal(devices('alexnet-6'), 6);
  assert.equal(devices('vgg16-9'), 9);
  assert.equal(devices('vgg16-11'), 11);
  const vgg = loadModelSpec('vgg16');
  const s9 = stageInfos(vgg, findPreset('vgg16-9').stages);
  assert.equal(s9[0]!.outBytes, 3211264); // block1 output, 3.2 MB
  assert.equal(s9[2]!.outBytes, 100352); // fc1 input, 100 KB
  const a = stageInfos(loadModelSpec('alexnet'), findPreset('alexnet-5').stages);
  assert.equal(a[0]!.outBytes, 25088); // AlexNet conv output, 25 KB
  assert.equal(a[1]!.paramBytes, ((6272 * 4096 + 4096) * 4) / 2);
});

test('unknown model and preset names list the valid ones', () => {
  assert.throws(() => loadModelSpec('resnet'), /unknown model "resnet"; valid models: alexnet, vgg16/);
  assert.throws(() => findPreset('alexnet-7'), /valid presets: alexnet-5, alexnet-6, vgg16-9, vgg16-11/);
});

test('a spec error names file, line and field', () => {
  const text = 'model: x\ninput: [8, 8, 3]\nlayers:\n  - { name: c, type: conv, filters: 4, kernel: 3, block: b }\n  - { name: d, type: dense, unitz: 3, block: b }\n';
  assert.throws(() => parseModelSpec(text, 'x.yaml'), (e: unknown) => e instanceof SpecError && /^x\.yaml:5:\d+: layers\.1\.unitz: unknown key/.test((e as Error).message));
});

test('shard ranges cover the units once, sizes differing by at most one', () => {
  for (const [units, k] of [[4096, 2], [1000, 3], [7, 7]]) {
    let next = 0;
    for (let i = 0; i < k!; i++) {
      const r = shardRange(units!, i, k!);
      assert.equal(r.start, next);
      next = r.end;
      assert.ok(Math.abs(r.count - Math.floor(units! / k!)) <= 1);
    }
    assert.equal(next, units);
  }
});

test('weights are deterministic and a shard equals the same units of the whole layer', () => {
  const spec = loadModelSpec('alexnet');
  const fc1 = layerInfos(spec).find((l) => l.layer.name === 'fc1')!;
  const whole = kernelUnits('alexnet', fc1, 7, 0, 4096);
  const again = kernelUnits('alexnet', fc1, 7, 0, 4096);
  assert.deepEqual(again.subarray(0, 1000), whole.subarray(0, 1000));
  const half = kernelUnits('alexnet', fc1, 7, 2048, 4096);
  assert.deepEqual(half, whole.subarray(2048 * 6272));
  const other = kernelUnits('alexnet', fc1, 8, 0, 1);
  assert.notDeepEqual(other, whole.subarray(0, 6272));
  // Glorot-uniform: inside the limit, mean near zero, variance near limit^2/3.
  const limit = Math.sqrt(6 / (6272 + 4096));
  let sum = 0;
  let sq = 0;
  for (const v of whole) {
    assert.ok(Math.abs(v) <= Math.fround(limit));
    sum += v;
    sq += v * v;
  }
  const mean = sum / whole.length;
  assert.ok(Math.abs(mean) < limit * 1e-3);
  assert.ok(Math.abs(sq / whole.length / ((limit * limit) / 3) - 1) < 0.01);
});

test('a stage that splits a softmax layer is refused when read', () => {
  const spec = loadModelSpec('alexnet');
  assert.throws(() => parseStage({ role: 'out', layers: ['fc3'], shards: 2 }, spec.layers, 'alexnet'), /fc3 ends in softmax, which cannot be split/);
  assert.throws(() => parseStage({ role: 'c', layers: ['conv1'], shards: 2 }, spec.layers, 'alexnet'), /only a stage of exactly one dense layer/);
  assert.equal(parseStage({ role: 'f', layers: ['fc2'], shards: 3 }, spec.layers, 'alexnet').shards, 3);
});
