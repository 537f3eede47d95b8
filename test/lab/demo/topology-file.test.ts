// pifarm demo --topology: a planner-style file with a layout no preset has: convs cut in two
// stages (the second data-parallel), fc1 split in halves feeding TWO fc2 replicas, so the halves
// of each frame must meet at the same replica (chosen by frame id) and be merged there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const YAML = `model: alexnet
name: split-test
stages:
  - { role: head, layers: conv1..pool2 }
  - { role: tail, layers: conv3..flatten, replicas: 2 }
  - { role: fc1, blocks: [fc1], shards: 2 }
  - { role: fc2, blocks: [fc2], replicas: 2 }
`;

test('pifarm demo --topology runs a planner file: shard halves meet at one of two replicas', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pifarm-test-')), 'split.yaml');
  writeFileSync(file, YAML);
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'demo', '--topology', file, '--frames', '16', '--warmup', '2', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { preset: string; completed: number; dropped: number; check: { ok: boolean; compared: number }; sender: { processes: { role: string; replica: number; frames: number }[] } };
  assert.equal(j.preset, 'split-test');
  assert.equal(j.completed, 16);
  assert.equal(j.dropped, 0);
  assert.equal(j.check.ok, true);
  const fc2 = j.sender.processes.filter((p) => p.role === 'fc2');
  assert.equal(fc2.length, 2, 'both fc2 replicas computed frames');
  assert.ok(fc2.every((p) => p.frames > 0));
});

test('pifarm demo --topology reports a bad file with its location', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pifarm-test-')), 'bad.yaml');
  writeFileSync(file, YAML.replace('conv3..flatten', 'conv3..conv9'));
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'demo', '--topology', file], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /bad\.yaml:\d+/);
  assert.match(r.stderr, /conv9/);
});
