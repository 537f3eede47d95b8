// Topologies of an imported model: topology files name cut points (checked against the package),
// and topology "auto" plans over the cut points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importOnnx } from '../../src/engine/import-onnx.js';
import { parseTopologyText } from '../../src/topology/file.js';
import { planImported } from '../../src/topology/plan-imported.js';
import { profileImportedLocal } from '../../src/topology/profile-imported.js';
import { spawnSync } from 'node:child_process';
import { PI3, PI4 } from '../../src/topology/cost-model.js';
import { evaluateImported } from '../../src/topology/imported-cost.js';
import { topologyToYaml } from '../../src/topology/file.js';
import { resnetLike, wideDense } from '../engine/onnx-fixtures.js';

async function mini(): Promise<{ models: string; pkg: Awaited<ReturnType<typeof importOnnx>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-imported-topo-'));
  const file = join(dir, 'mini.onnx');
  writeFileSync(file, resnetLike());
  const models = join(dir, 'models');
  return { models, pkg: await importOnnx(file, { modelsDir: models }) };
}

test('a topology file of cut points: read as stages; a range that is not a cut, a gap or a shard is an error with line and field', async () => {
  const { models } = await mini();
  const t = parseTopologyText('model: mini\nname: two\nstages:\n  - { role: a, layers: data_0..b1_out }\n  - { role: b, layers: b1_out..prob, replicas: 2 }\n', 't.yaml', models);
  assert.deepEqual(t.stages, [{ role: 'a', layers: ['data_0', 'b1_out'], replicas: 1, shards: 1 }, { role: 'b', layers: ['b1_out', 'prob'], replicas: 2, shards: 1 }]);
  const bad = (text: string) => {
    try {
      parseTopologyText(`model: mini\nname: x\nstages:\n${text}`, 't.yaml', models);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.match(bad('  - { role: a, layers: data_0..b1_r1 }\n'), /t\.yaml:4:\d+: stages\.0\.layers: expected FROM\.\.TO, two cut points of mini \(data_0, stem, /);
  assert.match(bad('  - { role: a, layers: data_0..stem }\n  - { role: b, layers: b1_out..prob }\n'), /stages\.1\.layers: the stage must start at stem, where the one before it ends/);
  assert.match(bad('  - { role: a, layers: data_0..b1_out }\n'), /stages: the last stage ends at b1_out, not at the output prob/);
  assert.match(bad('  - { role: a, layers: data_0..prob, shards: 2 }\n'), /t\.yaml:4:\d+: stages\.0\.shards: the stage data_0\.\.prob is not one dense layer \(a Gemm, or a MatMul and an Add of its bias\): only a single dense layer is split into shards/);
  // the Gemm alone may be split
  const split = parseTopologyText('model: mini\nname: s\nstages:\n  - { role: a, layers: data_0..flat }\n  - { role: fc, layers: flat..fc, shards: 2 }\n  - { role: out, layers: fc..prob }\n', 't.yaml', models);
  assert.deepEqual(split.stages.map((x) => x.shards), [1, 2, 1]);
  assert.throws(() => parseTopologyText('model: nothing-here\nstages: []\n', 't.yaml', models), /model: expected one of alexnet, vgg16, or a model imported into/);
});

test('auto for an imported model: every node used, stages between cut points, the exact search over them', async () => {
  const { pkg } = await mini();
  for (const nodes of [1, 2, 5]) {
    const plan = planImported(pkg, { devices: nodes + 1, profile: PI3 });
    assert.equal(plan.stages.reduce((a, s) => a + s.replicas * s.shards, 0), nodes);
    assert.equal(plan.stages[0]!.layers[0], 'data_0');
    assert.equal(plan.stages[plan.stages.length - 1]!.layers[1], 'prob');
    plan.stages.forEach((s, i) => i > 0 && assert.equal(s.layers[0], plan.stages[i - 1]!.layers[1]));
    assert.ok(plan.evaluation.predictedIps > 0 && Number.isFinite(plan.evaluation.predictedIps));
    assert.match(plan.search.method, /exact dynamic programming over cut-point cuts/);
  }
  assert.ok(planImported(pkg, { devices: 6 }).evaluation.predictedIps > planImported(pkg, { devices: 2 }).evaluation.predictedIps, 'more devices, more IPS');
});

test('plan --profile local for an imported model: every cut range timed here; the plan follows the measured times, not the MACs', async () => {
  const { models, pkg } = await mini();
  const measured = await profileImportedLocal(models, pkg, { runs: 3 });
  const times = Object.values(measured.layerSeconds!);
  assert.deepEqual(Object.keys(measured.layerSeconds!), pkg.cuts.slice(0, -1).map((c) => c.tensor));
  assert.ok(times.every((s) => s > 0 && s < 1), times.join(' '));
  // a range that the MACs call cheap but is measured dear (the GAP at the end: no MACs) takes the replicas
  const gap = pkg.cuts.findIndex((c) => c.tensor === 'b2_out');
  const plan = planImported(pkg, { devices: 5, profile: { ...measured, layerSeconds: { ...measured.layerSeconds, b2_out: 1 } } });
  const holding = plan.stages.find((s) => pkg.cuts.findIndex((c) => c.tensor === s.layers[0]) <= gap && pkg.cuts.findIndex((c) => c.tensor === s.layers[1]) > gap)!;
  assert.equal(holding.replicas, Math.max(...plan.stages.map((s) => s.replicas)));
  assert.ok(holding.replicas >= 2, JSON.stringify(plan.stages));
  assert.ok(plan.evaluation.predictedIps < 5, `the measured 1 s range bounds the farm: ${plan.evaluation.predictedIps}`);
  const cli = spawnSync(process.execPath, ['dist/src/cli/main.js', 'plan', '--model', pkg.name, '--models', models, '--devices', '4', '--profile', 'local', '--json'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const out = JSON.parse(cli.stdout).plan;
  assert.deepEqual(out.stageDevices.map((d: string) => /^local \(onnxruntime-node [\d.]+ cpu, 1 thread\(s\)\)$/.test(d)), out.stages.map(() => true));
  assert.match(out.yaml, /written by pifarm plan: mini on 4 devices/);
});

test('the exact search on an imported model shards a dense layer too big for a small Pi and keeps it whole on a Pi 4', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-imported-wide-'));
  writeFileSync(join(dir, 'wide.onnx'), wideDense());
  const models = join(dir, 'models');
  const pkg = await importOnnx(join(dir, 'wide.onnx'), { modelsDir: models });
  const fc = pkg.cuts.findIndex((c) => c.tensor === 'flatten');
  assert.equal(pkg.cuts[fc]!.workToNext!.denseUnits, 2048, 'the import records the range flatten..fc6 as one dense layer of 2048 units');
  assert.ok(pkg.cuts[fc]!.workToNext!.weightBytes > 60e6);
  // 67 MB of fc6 weights at the initializers' load factor need more than a Pi with 280 MB to spare holds
  const small = { ...PI3, name: 'pi3-small', ramMb: 324 + 280 };
  const plan = planImported(pkg, { devices: 6, profile: small, sharedMedium: false });
  const fcStage = plan.stages.find((s) => s.layers[0] === 'flatten')!;
  assert.ok(fcStage && fcStage.layers[1] === 'fc6' && fcStage.shards >= 2, JSON.stringify(plan.stages));
  assert.ok(plan.evaluation.fitsMemory, plan.evaluation.stages.map((s) => `${s.role} ${s.memoryMb}`).join(', '));
  const whole = evaluateImported(pkg, [{ role: 'all', layers: ['data_0', 'prob'], replicas: 1, shards: 1 }], undefined, small);
  assert.equal(whole.fitsMemory, false, `the whole model does not fit: ${whole.stages[0]!.memoryMb} MB`);
  assert.throws(() => planImported(pkg, { devices: 2, profile: small }), /no topology of wide fits 1 node device\(s\) of pi3-small \(604 MB\)/);
  // on a Pi 4 the whole model fits: replicas of it beat any split (no hop, no merge)
  const pi4 = planImported(pkg, { devices: 6, profile: PI4, sharedMedium: false });
  assert.ok(pi4.evaluation.fitsMemory && pi4.stages.every((s) => s.shards === 1), JSON.stringify(pi4.stages));
  // a topology file may name the shards, and its graphs split the Gemm's weights
  const t = parseTopologyText(topologyToYaml({ model: 'wide', name: 'p', stages: plan.stages, devices: 6 }, []), 'p.yaml', models);
  assert.deepEqual(t.stages, plan.stages);
});

test('plan -i INVENTORY --profile HOST for an imported model: the package copied to the host once, every cut range timed there', async () => {
  const { models, pkg } = await mini();
  const home = mkdtempSync(join(tmpdir(), 'pifarm-profile-home-'));
  const inv = join(home, 'farm.yaml');
  writeFileSync(inv, ['hosts:', '  me: { local: true, slots: 3 }', `farm: { model: mini, models: ${models}, engine: onnx }`, ''].join('\n'));
  const plan = () => spawnSync(process.execPath, ['dist/src/cli/main.js', 'plan', '-i', inv, '--profile', 'me', '--json'], { encoding: 'utf8', env: { ...process.env, HOME: home } });
  const r = plan();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /profiling every range between mini's cut points with the onnx engine on me/);
  const out = JSON.parse(r.stdout).plan;
  assert.deepEqual([...new Set(out.stageDevices)], ['me']);
  assert.match(out.search.method, /cut-point cuts/);
  const copied = join(home, '.cache/pifarm/models/mini', pkg.graphFile);
  assert.ok(existsSync(copied) && existsSync(join(home, '.cache/pifarm/models/mini/meta.json')), 'the package is in the host user\'s cache');
  const sent = statSync(copied).mtimeMs;
  assert.equal(plan().status, 0);
  assert.equal(statSync(copied).mtimeMs, sent, 'a graph already there is not sent again');
});
