// Import of the artifact's JSON IP tables: the paper's appendix farms 5, 9 and 11, the trailing-
// comma form strict JSON refuses, preset inference, and a clear refusal when no preset fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMapping, importArtifactTable, stripTrailingCommas } from '../../src/inventory/import.js';
import { parseInventory } from '../../src/inventory/load.js';

// The appendix tables (addresses as the paper's 192.168.1.x placeholders).
const FARM5 = `{"node": {
  "initial": ["192.168.1.8"],
  "block1": ["192.168.1.3"],
  "fc1": ["192.168.1.4", "192.168.1.5"],
  "fc2": ["192.168.1.6"],
}}
`;
const FARM9 = `{
  "node": {
    "initial": ["192.168.1.8"],
    "block1": ["192.168.1.3"],
    "block234": ["192.168.1.4", "192.168.1.5", "192.168.1.6"],
    "block5": ["192.168.1.7"],
    "fc1": ["192.168.1.9", "192.168.1.10"],
    "fc2": ["192.168.1.11"]
  }
}
`;
const FARM11 = `{
  "node": {
    "initial": ["192.168.1.8"],
    "block12345": ["192.168.1.3", "192.168.1.4", "192.168.1.5", "192.168.1.6", "192.168.1.7", "192.168.1.12", "192.168.1.13",],
    "fc1": ["192.168.1.9", "192.168.1.10"],
    "fc2": ["192.168.1.11"],
  },
}
`;

function placements(yaml: string): string[] {
  const inv = parseInventory(yaml, '/tmp/imported.yaml');
  const addr = new Map(inv.hosts.map((h) => [h.name, h.address]));
  return Object.entries(inv.farm.assignment!).map(([role, hosts]) => `${role}=${hosts.map((h) => addr.get(h)).join(',')}`);
}

test('farm-5 (trailing comma) imports as alexnet-5 with the sender from "initial"', () => {
  assert.throws(() => JSON.parse(FARM5), SyntaxError, 'the fixture must be one strict JSON refuses');
  const r = importArtifactTable(FARM5, 'farm5.json', { model: 'alexnet' });
  assert.equal(r.preset, 'alexnet-5');
  const inv = parseInventory(r.yaml, '/tmp/imported.yaml');
  assert.equal(inv.farm.sender, 'initial');
  assert.equal(inv.hosts.find((h) => h.name === 'initial')!.address, '192.168.1.8');
  assert.deepEqual(placements(r.yaml), ['block1=192.168.1.3', 'fc1=192.168.1.4,192.168.1.5', 'fc2=192.168.1.6']);
});

test('farm-9 imports as vgg16-9', () => {
  const r = importArtifactTable(FARM9, 'farm9.json', { model: 'vgg16' });
  assert.equal(r.preset, 'vgg16-9');
  assert.deepEqual(placements(r.yaml), ['block1=192.168.1.3', 'block234=192.168.1.4,192.168.1.5,192.168.1.6', 'block5=192.168.1.7', 'fc1=192.168.1.9,192.168.1.10', 'fc2=192.168.1.11']);
});

test('farm-11 (trailing commas in a list and an object) imports as vgg16-11', () => {
  const r = importArtifactTable(FARM11, 'farm11.json', { model: 'vgg16', preset: 'vgg16-11' });
  assert.equal(r.preset, 'vgg16-11');
  assert.equal(placements(r.yaml)[0], 'block12345=192.168.1.3,192.168.1.4,192.168.1.5,192.168.1.6,192.168.1.7,192.168.1.12,192.168.1.13');
});

test('counts pick between presets with the same roles (alexnet-6 has two block1 replicas)', () => {
  const six = FARM5.replace('"block1": ["192.168.1.3"]', '"block1": ["192.168.1.3", "192.168.1.2"]');
  assert.equal(importArtifactTable(six, 'farm6.json', { model: 'alexnet' }).preset, 'alexnet-6');
});

test('an address used by two roles becomes one host with slots', () => {
  const shared = FARM5.replace('"fc2": ["192.168.1.6"]', '"fc2": ["192.168.1.3"]');
  const r = importArtifactTable(shared, 'f.json', { model: 'alexnet' });
  assert.match(r.yaml, /block1-1: \{ address: 192\.168\.1\.3, slots: 2 \}/);
  assert.deepEqual(placements(r.yaml), ['block1=192.168.1.3', 'fc1=192.168.1.4,192.168.1.5', 'fc2=192.168.1.3']);
});

test('roles that match no preset, a wrong --preset and bad JSON are refused with the position', () => {
  const odd = FARM5.replace('"fc1": ["192.168.1.4", "192.168.1.5"]', '"fc1": ["192.168.1.4", "192.168.1.5", "192.168.1.7"]');
  assert.throws(() => importArtifactTable(odd, 'f.json', { model: 'alexnet' }), {
    message: 'f.json:3:3: node: the roles (block1 x1, fc1 x3, fc2 x1) match no preset of alexnet: alexnet-5 (block1 x1, fc1 x2, fc2 x1); alexnet-6 (block1 x2, fc1 x2, fc2 x1); name one with --preset, or fix the table',
  });
  assert.throws(() => importArtifactTable(FARM9, 'f.json', { model: 'vgg16', preset: 'vgg16-11' }), {
    message: 'f.json:4:5: node.block1: the table (block1 x1, block234 x3, block5 x1, fc1 x2, fc2 x1) does not fit preset vgg16-11 (block12345 x7, fc1 x2, fc2 x1)',
  });
  assert.throws(() => importArtifactTable('{"node": {"initial": ["a"] "fc1": []}}', 'f.json', { model: 'alexnet' }), { message: /^f\.json:1:28: not JSON: / });
  assert.throws(() => importArtifactTable('{"node": {"initial": ["a", "b"], "block1": "x"}}', 'f.json', { model: 'alexnet' }), {
    message: 'f.json:1:11: node.initial: expected one sender address, got 2\nf.json:1:34: node.block1: expected a non-empty list of IP addresses',
  });
});

test('stripTrailingCommas keeps commas inside strings and the text length', () => {
  const t = '{"a": ["x,]", "y",], "b": 1,}';
  const s = stripTrailingCommas(t);
  assert.equal(s.length, t.length);
  assert.deepEqual(JSON.parse(s), { a: ['x,]', 'y'], b: 1 });
});

// The artifact's own AlexNet tables name the stages block1 (convs), block2 (the fc1 halves), block3.
const ARTIFACT_ALEXNET5 = `{"node": {
  "initial": ["192.168.1.8"],
  "block1": ["192.168.1.3"],
  "block2": ["192.168.1.4", "192.168.1.5"],
  "block3": ["192.168.1.6"],
}}
`;
const ARTIFACT_ALEXNET6 = `{"node": {"initial": ["192.168.1.8"], "block1": ["192.168.1.3", "192.168.1.7"], "block2": ["192.168.1.4", "192.168.1.5"], "block3": ["192.168.1.6"]}}`;

test('the artifact\'s AlexNet tables (block1/block2/block3) map by position onto alexnet-5 and alexnet-6, and say so', () => {
  const five = importArtifactTable(ARTIFACT_ALEXNET5, 'farm5.json', { model: 'alexnet' });
  assert.equal(five.preset, 'alexnet-5');
  assert.deepEqual(five.mapping, { block1: 'block1', block2: 'fc1', block3: 'fc2' });
  assert.equal(describeMapping(five), 'block1 -> block1 (1 host), block2 -> fc1 (2 hosts), block3 -> fc2 (1 host)');
  assert.deepEqual(placements(five.yaml), ['block1=192.168.1.3', 'fc1=192.168.1.4,192.168.1.5', 'fc2=192.168.1.6']);
  assert.match(five.yaml, /^# The table's roles by position: block1 -> block1 \(1 host\), block2 -> fc1 \(2 hosts\), block3 -> fc2 \(1 host\)\.$/m);
  const six = importArtifactTable(ARTIFACT_ALEXNET6, 'farm6.json', { model: 'alexnet' });
  assert.equal(six.preset, 'alexnet-6');
  assert.deepEqual(placements(six.yaml), ['block1=192.168.1.3,192.168.1.7', 'fc1=192.168.1.4,192.168.1.5', 'fc2=192.168.1.6']);
  assert.equal(importArtifactTable(ARTIFACT_ALEXNET5, 'f.json', { model: 'alexnet', preset: 'alexnet-5' }).preset, 'alexnet-5');
  // pifarm's own names still map to themselves
  assert.deepEqual(importArtifactTable(FARM9, 'f.json', { model: 'vgg16' }).mapping, { block1: 'block1', block234: 'block234', block5: 'block5', fc1: 'fc1', fc2: 'fc2' });
});
