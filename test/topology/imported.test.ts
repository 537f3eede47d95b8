// Topologies of an imported model: topology files name cut points (checked against the package),
// and topology "auto" plans over the cut points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importOnnx } from '../../src/engine/import-onnx.js';
import { parseTopologyText } from '../../src/topology/file.js';
import { planImported } from '../../src/topology/plan-imported.js';
import { profileImportedLocal } from '../../src/topology/profile-imported.js';
import { spawnSync } from 'node:child_process';
import { PI3 } from '../../src/topology/cost-model.js';
import { resnetLike } from '../engine/onnx-fixtures.js';

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

test('auto for an imported model: every node used, stages between cut points, the best predicted IPS of the stage counts tried', async () => {
  const { pkg } = await mini();
  for (const nodes of [1, 2, 5]) {
    const plan = planImported(pkg, nodes, PI3);
    assert.equal(plan.stages.reduce((a, s) => a + s.replicas, 0), nodes);
    assert.equal(plan.stages[0]!.layers[0], 'data_0');
    assert.equal(plan.stages[plan.stages.length - 1]!.layers[1], 'prob');
    plan.stages.forEach((s, i) => i > 0 && assert.equal(s.layers[0], plan.stages[i - 1]!.layers[1]));
    assert.ok(plan.predictedIps > 0 && Number.isFinite(plan.predictedIps));
  }
  assert.ok(planImported(pkg, 5).predictedIps > planImported(pkg, 1).predictedIps, 'more devices, more IPS');
});

test('plan --profile local for an imported model: every cut range timed here; the plan follows the measured times, not the MACs', async () => {
  const { models, pkg } = await mini();
  const measured = await profileImportedLocal(models, pkg, { runs: 3 });
  assert.equal(measured.segmentS.length, pkg.cuts.length - 1);
  assert.ok(measured.segmentS.every((s) => s > 0 && s < 1), measured.segmentS.join(' '));
  // a range that the MACs call cheap but is measured dear (the GAP at the end: no MACs) takes the replicas
  const gap = pkg.cuts.findIndex((c) => c.tensor === 'b2_out');
  const dear = measured.segmentS.map((s, k) => (k === gap ? 1 : s));
  const plan = planImported(pkg, 4, PI3, undefined, dear);
  const holding = plan.stages.find((s) => pkg.cuts.findIndex((c) => c.tensor === s.layers[0]) <= gap && pkg.cuts.findIndex((c) => c.tensor === s.layers[1]) > gap)!;
  assert.equal(holding.replicas, Math.max(...plan.stages.map((s) => s.replicas)));
  assert.ok(holding.replicas >= 2, JSON.stringify(plan.stages));
  assert.ok(plan.predictedIps < 5, `the measured 1 s range bounds the farm: ${plan.predictedIps}`);
  const cli = spawnSync(process.execPath, ['dist/src/cli/main.js', 'plan', '--model', pkg.name, '--models', models, '--devices', '4', '--profile', 'local', '--json'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(JSON.parse(cli.stdout).plan.yaml, /each node as fast as this machine \(onnxruntime-node on this machine, 1 thread\(s\): every cut range measured\)/);
});
