// Importing trained ONNX models: cut points that keep residual blocks whole, stages whose chained
// outputs equal the whole model in a bare onnxruntime session, and clear errors for bad input
// that leave nothing half-imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { importOnnx } from '../../src/engine/import-onnx.js';
import { importedShardStage, importedStage, shardProblem } from '../../src/engine/imported-stage.js';
import { graphPath, loadImportedModel, type ImportedModel } from '../../src/model/imported.js';
import { caffeAlexnetLike, imagenetHead, matmulHead, notAnImage, resnetLike, RESNET_INSIDE_BLOCKS, unknownOp, type ExternalData } from './onnx-fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pifarm-import-'));

function file(dir: string, name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function input(dims: number[], seed = 3): Float32Array {
  let s = seed;
  return new Float32Array(dims.reduce((a, d) => a * d, 1)).map(() => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31));
}

async function run(bytes: Uint8Array, name: string, x: ort.Tensor): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return Object.values(await s.run({ [name]: x }))[0]!;
  } finally {
    await s.release();
  }
}

/** Runs the stages between the given cut indexes one after another. */
async function chain(modelsDir: string, name: string, at: number[], x: ort.Tensor): Promise<ort.Tensor> {
  const pkg = loadImportedModel(modelsDir, name);
  let t = x;
  for (let k = 0; k + 1 < at.length; k++) t = await run(importedStage(modelsDir, pkg, at[k]!, at[k + 1]!), pkg.cuts[at[k]!]!.tensor, t);
  return t;
}

const maxDiff = (a: ort.Tensor, b: ort.Tensor) => (a.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - (b.data as Float32Array)[i]!)), 0);

/** The stage [from, to) in 2 and 3 shards: the shards' outputs side by side equal the whole stage's. */
async function assertShardsMakeTheWhole(models: string, pkg: ImportedModel, from: number, to: number, x: ort.Tensor, units: number): Promise<void> {
  const whole = (await run(importedStage(models, pkg, from, to), 'flat', x)).data as Float32Array;
  for (const count of [2, 3]) {
    const parts: number[] = [];
    for (let k = 0; k < count; k++) parts.push(...((await run(importedShardStage(models, pkg, from, to, k, count), 'flat', x)).data as Float32Array));
    assert.equal(parts.length, units);
    assert.ok(parts.every((v, i) => Math.abs(v - whole[i]!) < 1e-6), `${count} shards`);
  }
}

test('a ResNet-style net: cut points skip the inside of residual blocks; any split equals the whole model', async () => {
  const dir = tmp();
  const models = join(dir, 'models');
  const bytes = resnetLike();
  const pkg = await importOnnx(file(dir, 'resnet-mini.onnx', bytes), { modelsDir: models });
  const cuts = pkg.cuts.map((c) => c.tensor);
  assert.deepEqual(cuts, ['data_0', 'stem', 'stem_bn', 'stem_relu', 'b1_add', 'b1_out', 'b2_add', 'b2_out', 'gap', 'flat', 'fc', 'prob']);
  for (const t of RESNET_INSIDE_BLOCKS) assert.ok(!cuts.includes(t), `${t} is inside a residual block`);
  assert.equal(pkg.input.layout, 'NCHW');
  assert.deepEqual(pkg.cuts.find((c) => c.tensor === 'b1_out')!.dims, [1, 8, 32, 32]);
  // MACs: stem conv 32*32*8*(3*9), four block convs 32*32*8*(8*9), fc 10*8
  assert.equal(pkg.macs, 32 * 32 * 8 * 27 + 4 * 32 * 32 * 8 * 72 + 80);
  assert.equal(pkg.cuts.reduce((a, c) => a + c.macsToNext, 0), pkg.macs);
  assert.equal(pkg.classes, 10);

  const x = new ort.Tensor('float32', input([1, 3, 32, 32]), [1, 3, 32, 32]);
  const whole = await run(bytes, 'data_0', x);
  const last = pkg.cuts.length - 1;
  for (const at of [[0, last], [0, 3, 5, 7, last], [0, 5, last], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, last]]) {
    const d = maxDiff(await chain(models, pkg.name, at, x), whole);
    assert.ok(d < 1e-5, `stages at cuts ${at.join(',')}: max |diff| ${d}`);
  }
});

test('a Caffe-style AlexNet head (LRN, grouped conv, MaxPool) imports and splits exactly', async () => {
  const dir = tmp();
  const models = join(dir, 'models');
  const bytes = caffeAlexnetLike();
  const pkg = await importOnnx(file(dir, 'bvlc-mini.onnx', bytes), { modelsDir: models, name: 'bvlc' });
  assert.deepEqual(pkg.cuts.map((c) => c.tensor), ['data_0', 'conv1', 'relu1', 'norm1', 'pool1', 'conv2', 'relu2', 'flat', 'fc8']);
  assert.equal(pkg.ops.LRN, 1);
  const x = new ort.Tensor('float32', input([1, 3, 32, 32], 5), [1, 3, 32, 32]);
  const d = maxDiff(await chain(models, 'bvlc', [0, 4, 6, 8], x), await run(bytes, 'data_0', x));
  assert.ok(d < 1e-5, `max |diff| ${d}`);
});

test('bad input: a truncated file, an unknown op, a non-image input, wrong labels; nothing half-imported', async () => {
  const dir = tmp();
  const models = join(dir, 'models');
  const good = resnetLike();
  await assert.rejects(importOnnx(file(dir, 'cut.onnx', good.subarray(0, Math.floor(good.length / 2))), { modelsDir: models }), /cut\.onnx: not a readable ONNX model \(.*\); is the file complete\?/);
  await assert.rejects(importOnnx(file(dir, 'glow.onnx', unknownOp()), { modelsDir: models }), /glow\.onnx: node "glow" \(FancyGlow\): onnxruntime cannot run this model/);
  await assert.rejects(importOnnx(file(dir, 'tab.onnx', notAnImage()), { modelsDir: models }), /tab\.onnx: input features has shape \[1, 10\]; pifarm needs an image input/);
  const labels = file(dir, 'labels.txt', new TextEncoder().encode('cat\ndog\n'));
  await assert.rejects(importOnnx(file(dir, 'r.onnx', good), { modelsDir: models, labelsFile: labels }), /--labels: .*labels\.txt has 2 labels, but the model's output has 10 classes/);
  await assert.rejects(importOnnx(join(dir, 'missing.onnx'), { modelsDir: models }), /missing\.onnx: no such file/);
  assert.ok(!existsSync(models) || readdirSync(models).length === 0, `left behind: ${existsSync(models) ? readdirSync(models).join(', ') : ''}`);
});

test('pifarm model import and model show through the CLI', () => {
  const dir = tmp();
  const f = file(dir, 'resnet-mini.onnx', resnetLike());
  const env = { ...process.env, PIFARM_STATE_DIR: join(dir, 'state') };
  const imp = spawnSync(process.execPath, ['dist/src/cli/main.js', 'model', 'import', f, '--name', 'mini'], { encoding: 'utf8', env });
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /^imported mini into .*state\/models\/mini$/m);
  const show = spawnSync(process.execPath, ['dist/src/cli/main.js', 'model', 'show', 'mini'], { encoding: 'utf8', env });
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^input data_0 \[1, 3, 32, 32\] NCHW; output prob \[1, 10\], 10 classes$/m);
  assert.match(show.stdout, /^ *5 +b1_out +\[1, 8, 32, 32\] +32\.8 KB +1\.2 M$/m);
  const none = spawnSync(process.execPath, ['dist/src/cli/main.js', 'model', 'show', 'nope'], { encoding: 'utf8', env });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no imported model "nope" in .*; import one with pifarm model import FILE\.onnx --name nope/);
});

test('a 1000-class output gets ImageNet\'s labels unless told otherwise', async () => {
  const dir = tmp();
  const pkg = await importOnnx(file(dir, 'head.onnx', imagenetHead()), { modelsDir: join(dir, 'models') });
  assert.equal(pkg.labels?.length, 1000);
  assert.deepEqual([pkg.labels![0], pkg.labels![999]], ['tench, Tinca tinca', 'toilet tissue, toilet paper, bathroom tissue']);
  assert.ok(pkg.notes.some((n) => /ImageNet's 1000 classes/.test(n)));
});

test('a one-Gemm stage splits into shards by output units; the shards side by side are the whole stage', async () => {
  const dir = tmp();
  const models = join(dir, 'models');
  const pkg = await importOnnx(file(dir, 'r.onnx', resnetLike()), { modelsDir: models, name: 'r' });
  const at = (t: string) => pkg.cuts.findIndex((c) => c.tensor === t);
  const [from, to] = [at('flat'), at('fc')];
  assert.equal(shardProblem(models, pkg, from, to), null);
  assert.match(shardProblem(models, pkg, at('stem_relu'), at('b1_out'))!, /is not one dense layer \(a Gemm, or a MatMul and an Add of its bias\)/);
  const x = new ort.Tensor('float32', input([1, 8], 9), [1, 8]);
  await assertShardsMakeTheWhole(models, pkg, from, to, x, 10);
});

test('a MatMul and the Add of its bias (a dense layer as Keras and PyTorch write it) split into shards the same way', async () => {
  const dir = tmp();
  const models = join(dir, 'models');
  const pkg = await importOnnx(file(dir, 'm.onnx', matmulHead()), { modelsDir: models, name: 'm' });
  const at = (t: string) => pkg.cuts.findIndex((c) => c.tensor === t);
  const [from, to] = [at('flat'), at('fc')];
  assert.ok(from >= 0 && to > from, JSON.stringify(pkg.cuts.map((c) => c.tensor)));
  assert.equal(shardProblem(models, pkg, from, to), null);
  // a stage with more than the dense layer in it is not split
  assert.match(shardProblem(models, pkg, at('gap'), to)!, /is not one dense layer/);
  const x = new ort.Tensor('float32', input([1, 4], 5), [1, 4]);
  await assertShardsMakeTheWhole(models, pkg, from, to, x, 10);
});

test('external data: weights kept in a file beside the graph are read into the package; a missing or short data file is a clear error', async () => {
  const dir = tmp();
  const models = join(dir, 'models');
  const ext: ExternalData = { location: 'resnet-mini.weights', chunks: [] };
  const onnxFile = file(dir, 'resnet-ext.onnx', resnetLike(7, ext));
  await assert.rejects(importOnnx(onnxFile, { modelsDir: models }), /resnet-ext\.onnx: initializer b1_c1_w: its data file resnet-mini\.weights is not in .*; copy the \.onnx file with the data files it names/);
  assert.ok(!existsSync(join(models, 'resnet-ext')), 'nothing half-imported');
  const weights = Buffer.concat(ext.chunks);
  writeFileSync(join(dir, 'resnet-mini.weights'), weights);
  const pkg = await importOnnx(onnxFile, { modelsDir: models });
  assert.match(pkg.notes.join('\n'), /external data: \d+ initializer\(s\) read from resnet-mini\.weights into the package's graph/);
  const x = new ort.Tensor('float32', input([1, 3, 32, 32]), [1, 3, 32, 32]);
  // onnxruntime reading the external file itself, the same net written inline, the package and its stages: all one answer
  const s = await ort.InferenceSession.create(onnxFile);
  const fromFiles = Object.values(await s.run({ data_0: x }))[0]!;
  await s.release();
  assert.ok(maxDiff(fromFiles, await run(resnetLike(7), 'data_0', x)) < 1e-6);
  assert.ok(maxDiff(fromFiles, await run(readFileSync(graphPath(models, pkg)), 'data_0', x)) < 1e-6);
  assert.ok(maxDiff(fromFiles, await chain(models, pkg.name, [0, 4, pkg.cuts.length - 1], x)) < 1e-5);
  writeFileSync(join(dir, 'resnet-mini.weights'), weights.subarray(0, 100));
  await assert.rejects(importOnnx(onnxFile, { modelsDir: models, name: 'short' }), /initializer b1_c1_w: resnet-mini\.weights holds 100 bytes; the tensor \(8x8x3x3, type 1\) wants 2304 at offset 0/);
});
