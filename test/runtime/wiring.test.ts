import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset } from '../../src/model/spec.js';
import { wireTopology, WiringError } from '../../src/topology/wiring.js';
import type { Placement } from '../../src/topology/types.js';

function placementsOf(preset: string, hostOf: (i: number) => string): Placement[] {
  const out: Placement[] = [];
  findPreset(preset).stages.forEach((s, stageIndex) => {
    for (let replica = 0; replica < s.replicas; replica++) {
      for (let shard = 0; shard < s.shards; shard++) out.push({ host: hostOf(out.length), role: s.role, stageIndex, replica, shard, port: 12345 });
    }
  });
  return out;
}

const base = (preset: string, placements: Placement[]) => ({
  model: findPreset(preset).model,
  stages: findPreset(preset).stages,
  placements,
  addresses: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`pi${i}`, `10.99.0.${11 + i}`])),
  sender: { host: 'pi11', port: 9999 },
  engine: 'onnx' as const,
  seed: 2018,
});

test('alexnet-6 on five Pis: data-parallel convs, fc1 halves, fc2 merging by frame id', () => {
  const w = wireTopology(base('alexnet-6', placementsOf('alexnet-6', (i) => `pi${i}`)));
  assert.equal(w.nodes.length, 5);
  const [b0, b1, f0, f1, fc2] = w.nodes;
  assert.deepEqual(w.first, { role: 'block1', mode: 'replicas', endpoints: [{ host: '10.99.0.11', port: 12345 }, { host: '10.99.0.12', port: 12345 }] });
  for (const b of [b0!, b1!]) {
    assert.equal(b.next!.mode, 'shards');
    assert.deepEqual(b.next!.endpoints.map((e) => e.host), ['10.99.0.13', '10.99.0.14']);
    assert.equal(b.mergeFrom, 1);
  }
  assert.deepEqual([f0!.shard, f1!.shard], [{ index: 0, count: 2 }, { index: 1, count: 2 }]);
  assert.deepEqual(f0!.next, { role: 'fc2', mode: 'replicas', endpoints: [{ host: '10.99.0.15', port: 12345 }] });
  assert.equal(fc2!.mergeFrom, 2);
  assert.equal(fc2!.next, null);
  assert.deepEqual(fc2!.sender, { host: '10.99.0.22', port: 9999 });
  assert.deepEqual(fc2!.layers, ['fc2', 'fc3']);
  assert.equal(b0!.listen.host, '0.0.0.0');
  assert.ok(w.maxMessageBytes >= 16 * 1024 * 1024);
  assert.equal(w.lastShards, 1);
});

test('wiring refuses a missing placement, a duplicate, and a host without an address', () => {
  const ps = placementsOf('alexnet-5', (i) => `pi${i}`);
  assert.throws(() => wireTopology(base('alexnet-5', ps.slice(1))), (e: Error) => e instanceof WiringError && /block1: replica 0 shard 0 has no placement/.test(e.message));
  assert.throws(() => wireTopology(base('alexnet-5', [...ps, { ...ps[1]!, host: 'pi9' }])), /placed twice/);
  assert.throws(() => wireTopology(base('alexnet-5', ps.map((p, i) => (i === 2 ? { ...p, host: 'ghost' } : p)))), /host "ghost" has no address/);
  assert.throws(() => wireTopology(base('alexnet-5', ps.map((p) => ({ ...p, host: 'pi0' })))), /10\.99\.0\.11:12345 is already used/);
});

test('wiring refuses to shard a softmax layer, saying why', () => {
  const stages = [...findPreset('alexnet-5').stages.slice(0, 2), { role: 'fc2', layers: ['fc2'], replicas: 1, shards: 1 }, { role: 'fc3', layers: ['fc3'], replicas: 1, shards: 2 }];
  const placements: Placement[] = stages.flatMap((s, stageIndex) => Array.from({ length: s.shards }, (_, shard) => ({ host: `pi${stageIndex * 2 + shard}`, role: s.role, stageIndex, replica: 0, shard, port: 12345 })));
  assert.throws(() => wireTopology({ ...base('alexnet-5', placements), stages }), /stage fc3: fc3 ends in softmax, which cannot be split into 2 shards/);
});
