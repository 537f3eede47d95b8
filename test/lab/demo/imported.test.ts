// A real trained model on a local farm: nsfwjs' MobileNetV2 imported (TF.js layers, converted to
// ONNX), cut at cut points into three stages with the middle one data-parallel, every frame
// completes once, the distributed outputs equal the whole graph's, and the labels come out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { importTfjs } from '../../../src/engine/import-tfjs.js';
import { balancedCuts, runImportedDemo } from '../../../src/lab/imported-demo.js';
import { nsfwMobilenet, NSFW_LABELS } from '../../engine/nsfw-fixture.js';

test('nsfwjs MobileNetV2 in three stages (the middle one twice): all frames, outputs equal the whole model, labels named', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-imported-demo-'));
  const models = join(dir, 'state', 'models');
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, NSFW_LABELS.join('\n') + '\n');
  const model = await importTfjs(nsfwMobilenet(dir).file, { modelsDir: models, name: 'nsfw', labelsFile: labels });
  const cuts = balancedCuts(model, 3);
  assert.equal(cuts.length, 4);
  const r = await runImportedDemo({ modelsDir: models, model, stages: 3, replicas: [1, 2, 1], frames: 24, warmup: 4, log: () => {} });
  assert.equal(r.completed, 24);
  assert.equal(r.dropped, 0);
  assert.equal(r.sender.duplicates, 0);
  assert.ok(r.check.ok && r.check.compared === 3, `max |diff| ${r.check.maxAbsDiff}`);
  assert.equal(r.check.top1Mismatches, 0);
  assert.deepEqual(r.stages.map((s) => [s.role, s.replicas]), [['s0', 1], ['s1', 2], ['s2', 1]]);

  // model parallelism: its first dense layer (a Gemm) alone in a stage, split in two by output units
  const at = (t: string) => model.cuts.findIndex((c) => c.tensor === t);
  const split = await runImportedDemo({ modelsDir: models, model, cuts: [at('flatten_1'), at('dense_1')], shards: [1, 2, 1], frames: 12, warmup: 2, log: () => {} });
  assert.equal(split.completed, 12);
  assert.ok(split.check.ok && split.check.compared === 3, `max |diff| ${split.check.maxAbsDiff}`);
  assert.deepEqual(split.stages.map((s) => [s.role, s.shards, s.hosts?.length]), [['s0', 1, 1], ['s1', 2, 2], ['s2', 1, 1]]);
  await assert.rejects(runImportedDemo({ modelsDir: models, model, cuts: [30], shards: [2, 1], frames: 4, warmup: 1, log: () => {} }), /the stage input\.\.block_4_add is not one dense layer \(a Gemm, or a MatMul and an Add of its bias\)/);
  assert.ok(r.sender.processes.filter((p) => p.role === 's1').every((p) => p.frames > 0), 'both replicas of s1 computed frames');
  for (const t of r.top) {
    assert.equal(t.classes.length, 5);
    assert.ok(t.classes.every((c) => NSFW_LABELS.includes(c.label!)));
    assert.ok(Math.abs(t.classes.reduce((a, c) => a + c.p, 0) - 1) < 1e-4, 'softmax probabilities');
  }

  // the CLI, on the same package: demo --model NAME --cuts
  const cli = spawnSync(process.execPath, ['dist/src/cli/main.js', 'demo', '--model', 'nsfw', '--cuts', String(cuts[1]), '--frames', '8', '--json'], { encoding: 'utf8', env: { ...process.env, PIFARM_STATE_DIR: join(dir, 'state') }, timeout: 120_000 });
  assert.equal(cli.status, 0, cli.stderr);
  const j = JSON.parse(cli.stdout) as { completed: number; check: { ok: boolean }; stages: unknown[]; top: { classes: { label: string }[] }[] };
  assert.equal(j.completed, 8);
  assert.equal(j.check.ok, true);
  assert.equal(j.stages.length, 2);
  assert.ok(NSFW_LABELS.includes(j.top[0]!.classes[0]!.label));

  // a plan written for it runs as demo --topology FILE (the model is the file's)
  const env = { ...process.env, PIFARM_STATE_DIR: join(dir, 'state') };
  const file = join(dir, 'plan.yaml');
  const plan = spawnSync(process.execPath, ['dist/src/cli/main.js', 'plan', '--model', 'nsfw', '--devices', '3', '--local', '-o', file], { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(plan.status, 0, plan.stderr);
  const demo = spawnSync(process.execPath, ['dist/src/cli/main.js', 'demo', '--topology', file, '--frames', '8', '--json'], { encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(demo.status, 0, demo.stderr);
  const d = JSON.parse(demo.stdout) as { model: string; completed: number; check: { ok: boolean } };
  assert.deepEqual([d.model, d.completed, d.check.ok], ['nsfw', 8, true]);
});

test('real photos through the imported MobileNetV2 on a local farm: every photo is named "Neutral" by the whole model and by the farm alike', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-imported-photos-'));
  const models = join(dir, 'models');
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, NSFW_LABELS.join('\n') + '\n');
  const model = await importTfjs(nsfwMobilenet(dir).file, { modelsDir: models, name: 'nsfw', labelsFile: labels });
  const photos = ['/usr/lib/python3/dist-packages/skimage/data/chelsea.png', '/usr/lib/python3/dist-packages/skimage/data/coffee.png', '/usr/share/darknet/data/dog.jpg', '/usr/share/darknet/data/giraffe.jpg'];
  const folder = join(dir, 'photos');
  mkdirSync(folder);
  for (const p of photos) copyFileSync(p, join(folder, basename(p)));
  const r = await runImportedDemo({ modelsDir: models, model, stages: 2, frames: 100, warmup: 1, log: () => {}, inputs: { source: folder } });
  assert.equal(r.completed, 4);
  assert.ok(r.check.ok && r.check.compared === 4 && r.check.top1Mismatches === 0);
  assert.deepEqual(r.top.map((t) => t.classes[0]!.label), ['Neutral', 'Neutral', 'Neutral', 'Neutral']);
});
