import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTopologyFile, parseTopologyText, topologyToYaml } from '../../src/topology/file.js';
import { findPreset } from '../../src/model/spec.js';

const dir = mkdtempSync(join(tmpdir(), 'pifarm-topo-'));

test('a topology file with blocks and layer ranges loads into stages', () => {
  const f = join(dir, 'plan.yaml');
  writeFileSync(
    f,
    ['model: alexnet', 'name: my-plan', 'devices: 6', 'stages:', '  - { role: convs, layers: conv1..flatten, replicas: 2 }', '  - { role: fc1, blocks: [fc1], shards: 2 }', '  - { role: fc2, layers: [fc2, fc3] }', ''].join('\n'),
  );
  const t = loadTopologyFile(f);
  assert.equal(t.model, 'alexnet');
  assert.equal(t.name, 'my-plan');
  assert.equal(t.devices, 6);
  assert.deepEqual(
    t.stages.map((s) => [s.role, s.layers.length, s.replicas, s.shards]),
    [['convs', 9, 2, 1], ['fc1', 1, 1, 2], ['fc2', 2, 1, 1]],
  );
});

test('topologyToYaml round-trips a preset', () => {
  const p = findPreset('vgg16-9');
  const text = topologyToYaml({ model: 'vgg16', name: 'vgg16-9', stages: p.stages, devices: 9 }, ['made by a test'], { ips: 1.5 });
  assert.match(text, /^# made by a test\n/);
  const back = parseTopologyText(text, 'x.yaml');
  assert.deepEqual(back.stages, p.stages);
  assert.equal(back.devices, 9);
});

test('errors name file:line:col and the field', () => {
  const text = ['model: alexnet', 'stages:', '  - { role: a, layers: conv1..pool3 }', '  - { role: b, layers: fc1..fc3, shards: 2 }', 'colour: red', ''].join('\n');
  assert.throws(
    () => parseTopologyText(text, 't.yaml'),
    (e: Error) => {
      assert.match(e.message, /^t\.yaml:4:5: stages\.1: shards: only a stage of exactly one dense layer/m);
      assert.match(e.message, /^t\.yaml:5:1: colour: unknown key "colour"/m);
      return true;
    },
  );
  assert.throws(() => parseTopologyText('model: alexnet\nstages:\n  - { role: a, layers: conv1..pool3 }\n', 't.yaml'), { message: /^t\.yaml:3:3: stages: the stages must cover the layers of alexnet/ });
  assert.throws(() => parseTopologyText('model: resnet\nstages: []\n', 't.yaml'), { message: /^t\.yaml:1:8: model: expected one of alexnet, vgg16/ });
  assert.throws(() => loadTopologyFile(join(dir, 'missing.yaml')), { message: /missing\.yaml:1:1: cannot read the topology file/ });
});
