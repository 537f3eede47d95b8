// Both engines compute the same function: every block of every preset (each shard of a split
// layer too) gets the same input on onnx and tfjs, and the outputs agree to a relative difference
// under 1e-4 (max|a-b| / max|b|). One frame per block; big blocks are loaded one at a time and
// disposed before the next, so VGG16's fc1 halves never sit in memory together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, type BlockRequest, type Engine } from '../../src/engine/index.js';
import { loadModelSpec, modelNames, type ModelSpec } from '../../src/model/spec.js';
import { size, stageInfos } from '../../src/model/shapes.js';
import { fillUniform } from '../../src/model/prng.js';

const SEED = 2018;
const TOLERANCE = 1e-4;

/** max|a-b| / max(max|b|, tiny): one number for "same output", robust to the output's scale. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'output lengths differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/** Deterministic input in [0, 1): frames are scaled pixels, inner blocks get ReLU-like activations. */
function input(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  fillUniform(x, 0, n, seed, 0.5);
  for (let i = 0; i < n; i++) x[i] = x[i]! + 0.5;
  return x;
}

interface Case {
  name: string;
  req: BlockRequest;
}

/** Every distinct (layers, shard) of every preset of every model, in preset order. */
function presetBlocks(): Case[] {
  const seen = new Set<string>();
  const cases: Case[] = [];
  for (const m of modelNames()) {
    const model: ModelSpec = loadModelSpec(m);
    for (const preset of model.presets) {
      for (const stage of preset.stages) {
        for (let index = 0; index < stage.shards; index++) {
          const shard = stage.shards > 1 ? { index, count: stage.shards } : undefined;
          const key = `${m}/${stage.layers.join(',')}/${shard ? `${index}of${stage.shards}` : 'whole'}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const name = `${m} ${stage.role}${shard ? ` shard ${index + 1}/${stage.shards}` : ''} (${stage.layers[0]}..${stage.layers[stage.layers.length - 1]}, preset ${preset.name})`;
          cases.push({ name, req: { model, layers: stage.layers, seed: SEED, ...(shard ? { shard } : {}) } });
        }
      }
    }
  }
  return cases;
}

const cases = presetBlocks();

test('the preset list covers the blocks the paper runs', () => {
  const names = cases.map((c) => c.name.split(' (')[0]);
  for (const want of ['alexnet block1', 'alexnet fc1 shard 1/2', 'alexnet fc1 shard 2/2', 'alexnet fc2', 'vgg16 block1', 'vgg16 block234', 'vgg16 block5', 'vgg16 fc1 shard 1/2', 'vgg16 fc1 shard 2/2', 'vgg16 fc2', 'vgg16 block12345']) {
    assert.ok(names.includes(want), `missing ${want}; have ${names.join(', ')}`);
  }
});

test('onnx and tfjs give the same output on every preset block', async (t) => {
  const onnx: Engine = await createEngine('onnx', { threads: 1 });
  const tfjs: Engine = await createEngine('tfjs');
  for (const [i, c] of cases.entries()) {
    await t.test(c.name, async (st) => {
      const info = stageInfos(c.req.model, [{ role: 'x', layers: c.req.layers, replicas: 1, shards: c.req.shard?.count ?? 1 }])[0]!;
      const x = input(size(info.inShape), 100 + i);
      // One engine's block at a time: load, run, dispose.
      const a = await tfjs.load(c.req);
      const got = await a.run(x);
      await a.dispose();
      const b = await onnx.load(c.req);
      const want = await b.run(x);
      await b.dispose();
      assert.deepEqual(a.outputShape, b.outputShape);
      assert.deepEqual(a.outputShape, info.outShape);
      assert.equal(got.length, size(info.outShape));
      const rel = relativeDifference(got, want);
      st.diagnostic(`relative difference ${rel.toExponential(2)}`);
      assert.ok(rel < TOLERANCE, `tfjs vs onnx relative difference ${rel.toExponential(2)} (limit ${TOLERANCE})`);
      assert.ok(want.some((v) => v !== 0), 'the reference output is all zeros: the comparison would prove nothing');
    });
  }
});
