// A real trained Keras CNN: nsfwjs' MobileNetV2 (MIT; TF.js layers format, uint8-quantised weights,
// 224x224x3 in, 5 classes out), as the npm package ships it. Imported through the TF.js-layers
// path (converted to ONNX), it must give the probabilities @tensorflow/tfjs gives running the
// original model.json, and split at its cut points (between the inverted-residual blocks, never
// inside one) give the whole model's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { importTfjs } from '../../src/engine/import-tfjs.js';
import { importedStage } from '../../src/engine/imported-stage.js';
import { graphPath, loadImportedModel } from '../../src/model/imported.js';
import { readFileSync } from 'node:fs';
import { nsfwMobilenet } from './nsfw-fixture.js';

/** A smooth 224x224 RGB image in [0, 1] (the model's input after nsfwjs' /255), NHWC. */
function image(seed: number): Float32Array {
  const x = new Float32Array(224 * 224 * 3);
  for (let i = 0; i < 224; i++) for (let j = 0; j < 224; j++) for (let c = 0; c < 3; c++) x[(i * 224 + j) * 3 + c] = 0.5 + 0.5 * Math.sin((i + 1) * (c + 1 + seed) * 0.013 + j * 0.021 * (seed + 1));
  return x;
}

async function run(bytes: Uint8Array, input: string, x: ort.Tensor): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return Object.values(await s.run({ [input]: x }))[0]!;
  } finally {
    await s.release();
  }
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('nsfwjs MobileNetV2 (Keras, TF.js layers): same probabilities as tfjs, and split at cut points as whole', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-tfjs-'));
  const models = join(dir, 'models');
  const { file, json, weights } = nsfwMobilenet(dir);
  const pkg = await importTfjs(file, { modelsDir: models, name: 'nsfw-mobilenet-v2' });
  assert.equal(pkg.format, 'tfjs-layers');
  assert.deepEqual(pkg.input.dims, [1, 224, 224, 3]);
  assert.equal(pkg.input.layout, 'NHWC');
  assert.equal(pkg.classes, 5);
  const cuts = pkg.cuts.map((c) => c.tensor);
  // block_2 is an inverted-residual block (block_1's output is added back): nothing inside it is a cut
  for (const t of cuts) assert.ok(!/^block_2_(expand|depthwise|project)/.test(t), `${t} is inside block_2`);
  assert.ok(cuts.includes('block_2_add'), 'the Add that closes block_2 is a cut point');
  assert.ok(pkg.macs > 250e6 && pkg.macs < 350e6, `MobileNetV2 at 224 is about 300 M MACs, got ${pkg.macs}`);

  // the original model in @tensorflow/tfjs (CPU backend)
  await tf.setBackend('cpu');
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const original = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer }));
  const whole = readFileSync(graphPath(models, pkg));
  for (const seed of [0, 3]) {
    const x = image(seed);
    const expected = (original.predict(tf.tensor4d(x, [1, 224, 224, 3])) as tf.Tensor).dataSync() as Float32Array;
    const got = (await run(whole, pkg.input.name, new ort.Tensor('float32', x, [1, 224, 224, 3]))).data as Float32Array;
    assert.ok(maxDiff(got, expected) < 1e-4, `seed ${seed}: onnx ${[...got].map((v) => v.toFixed(5))} vs tfjs ${[...expected].map((v) => v.toFixed(5))}`);

    // three stages, cut where the MACs are about a third and two thirds through
    const loaded = loadImportedModel(models, pkg.name);
    let acc = 0;
    const at = [0];
    loaded.cuts.forEach((c, i) => {
      acc += c.macsToNext;
      if (at.length < 3 && acc >= (at.length * loaded.macs) / 3 && i + 1 < loaded.cuts.length - 1) at.push(i + 1);
    });
    at.push(loaded.cuts.length - 1);
    let t: ort.Tensor = new ort.Tensor('float32', x, [1, 224, 224, 3]);
    for (let k = 0; k + 1 < at.length; k++) t = await run(importedStage(models, loaded, at[k]!, at[k + 1]!), loaded.cuts[at[k]!]!.tensor, t);
    assert.ok(maxDiff(t.data as Float32Array, got) < 1e-5, `stages at ${at.map((i) => loaded.cuts[i]!.tensor).join(' | ')}`);
  }
});
