// The paper's presets on imported models in the zoo's shapes: VGG16 (vgg16-11, vgg16-9) and
// AlexNet (alexnet-6) matched by their layers, each preset's stages chained in onnxruntime (the
// sharded fc1 as its two shards side by side) equal to a bare session on the whole file; an
// inventory names the preset for the imported model; a model of other layers is refused; the
// planner on a full-size zoo-shaped VGG16 finds the paper's vgg16-11 and its stages chain equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { importOnnx } from '../../src/engine/import-onnx.js';
import { importedShardStage, importedStage } from '../../src/engine/imported-stage.js';
import type { ImportedModel } from '../../src/model/imported.js';
import { findPreset, type StageSpec } from '../../src/model/spec.js';
import { presetOnImported } from '../../src/topology/imported-preset.js';
import { loadInventory } from '../../src/inventory/load.js';
import { resolveFarm } from '../../src/topology/resolve.js';
import { alexnetZooLike, vgg16ZooLike } from '../engine/onnx-fixtures.js';
import { zooVgg16 } from '../../src/lab/zoo-vgg16.js';
import { planImported } from '../../src/topology/plan-imported.js';
import { evaluateImported } from '../../src/topology/imported-cost.js';

const dir = mkdtempSync(join(tmpdir(), 'pifarm-preset-import-'));
const models = join(dir, 'models');

async function imported(name: string, bytes: Uint8Array): Promise<{ pkg: ImportedModel; bytes: Uint8Array }> {
  const file = join(dir, `${name}.onnx`);
  writeFileSync(file, bytes);
  return { pkg: await importOnnx(file, { modelsDir: models, name }), bytes };
}

async function run(bytes: Uint8Array, x: ort.Tensor): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return Object.values(await s.run({ [s.inputNames[0]!]: x }))[0]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

/** The stages one after another, a sharded one as its shards' outputs side by side. */
async function chain(pkg: ImportedModel, stages: StageSpec[], x: ort.Tensor): Promise<Float32Array> {
  const at = (t: string) => pkg.cuts.findIndex((c) => c.tensor === t);
  let t = x;
  let out: Float32Array = new Float32Array();
  for (const s of stages) {
    const [from, to] = [at(s.layers[0]!), at(s.layers[1]!)];
    if (s.shards === 1) out = await run(importedStage(models, pkg, from, to), t);
    else {
      const parts: number[] = [];
      for (let k = 0; k < s.shards; k++) parts.push(...(await run(importedShardStage(models, pkg, from, to, k, s.shards), t)));
      out = Float32Array.from(parts);
    }
    t = new ort.Tensor('float32', out, pkg.cuts[to]!.dims);
  }
  return out;
}

const image = (dims: number[]) => new ort.Tensor('float32', Float32Array.from({ length: dims.reduce((a, d) => a * d, 1) }, (_, i) => ((i * 7919) % 255) / 255), dims);
const stagesOf = (s: StageSpec[]) => s.map((x) => `${x.role} ${x.layers.join('->')} x${x.replicas}${x.shards > 1 ? ` /${x.shards}` : ''}`);
const close = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);

test('vgg16-11 and vgg16-9 on a VGG16 with the zoo\'s layer names: stages at the same layers, outputs equal the whole file', async () => {
  const { pkg, bytes } = await imported('zoo-vgg16', vgg16ZooLike());
  const x = image([1, 3, 32, 32]);
  const whole = await run(bytes, x);
  const v11 = presetOnImported(pkg, findPreset('vgg16-11'));
  assert.deepEqual(stagesOf(v11), ['block12345 data_0->flatten x7', 'fc1 flatten->fc6 x1 /2', 'fc2 fc6->prob x1']);
  assert.ok(close(await chain(pkg, v11, x), whole));
  const v9 = presetOnImported(pkg, findPreset('vgg16-9'));
  assert.deepEqual(stagesOf(v9), ['block1 data_0->pool1 x1', 'block234 pool1->pool4 x3', 'block5 pool4->flatten x1', 'fc1 flatten->fc6 x1 /2', 'fc2 fc6->prob x1']);
  assert.ok(close(await chain(pkg, v9, x), whole));
  // a preset of another model's layers is refused, saying what each has
  assert.throws(() => presetOnImported(pkg, findPreset('alexnet-6')), /preset alexnet-6 is for alexnet's layers \(5 convolution\(s\), 3 max-pool\(s\), 3 dense layer\(s\)\); zoo-vgg16 has 13 convolution\(s\), 5 max-pool\(s\), 3 dense layer\(s\)/);
});

test('alexnet-6 on the zoo\'s AlexNet shape (LRN, grouped convolutions): block1 x2, fc1 in two shards, fc2; and from an inventory', async () => {
  const { pkg, bytes } = await imported('zoo-alexnet', alexnetZooLike());
  const x = image([1, 3, 64, 64]);
  const a6 = presetOnImported(pkg, findPreset('alexnet-6'));
  assert.deepEqual(stagesOf(a6), ['block1 data_0->flatten x2', 'fc1 flatten->fc6 x1 /2', 'fc2 fc6->prob x1']);
  assert.ok(close(await chain(pkg, a6, x), await run(bytes, x)));
  const inv = join(dir, 'farm.yaml');
  writeFileSync(inv, ['hosts:', ...[1, 2, 3, 4, 5].map((i) => `  pi${i}: 10.0.0.${i}`), 'farm:', '  model: zoo-alexnet', '  topology: alexnet-6', `  models: ${models}`, ''].join('\n'));
  const farm = resolveFarm(loadInventory(inv));
  assert.deepEqual(stagesOf(farm.stages), stagesOf(a6));
  assert.equal(farm.placements.length, 5);
});

test('demo --model NAME --preset vgg16-11: the preset\'s ten processes on this machine, every frame, outputs equal the whole model', () => {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'demo', '--model', 'zoo-vgg16', '--models', models, '--preset', 'vgg16-11', '--frames', '30', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { completed: number; check: { ok: boolean }; stages: { replicas: number; shards: number }[] };
  assert.equal(j.completed, 30);
  assert.ok(j.check.ok);
  assert.deepEqual(j.stages.map((s) => [s.replicas, s.shards]), [[7, 1], [1, 2], [1, 1]]);
});

test('the planner on a full-size VGG16 in the zoo\'s shape for 11 Pi 3s: three stages, fc6 in two shards (the paper\'s vgg16-11), chained equal to the whole file', { timeout: 240_000 }, async () => {
  const { pkg, bytes } = await imported('vgg16-full', zooVgg16());
  const plan = planImported(pkg, { devices: 11 });
  assert.deepEqual(stagesOf(plan.stages), ['s0 data_0->flatten x7', 's1 flatten->fc6 x1 /2', 's2 fc6->prob x1']);
  assert.ok(plan.evaluation.fitsMemory, plan.evaluation.stages.map((x) => `${x.role} ${x.memoryMb.toFixed(0)} MB`).join(', '));
  // fc6 whole (411 MB of weights) does not fit a Pi 3's 700 MB; each half does
  const whole = evaluateImported(pkg, [{ role: 'fc', layers: ['flatten', 'fc6'], replicas: 1, shards: 1 }]);
  assert.equal(whole.fitsMemory, false);
  const x = image([1, 3, 224, 224]);
  const expected = await run(bytes, x);
  const got = await chain(pkg, plan.stages, x);
  assert.equal(got.length, 1000);
  assert.ok(got.every((v, i) => Math.abs(v - expected[i]!) < 1e-6), 'the planned stages chained give the whole file\'s probabilities');
});
