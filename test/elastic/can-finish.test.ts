// Whether the topology a device was lost from can still finish its frames, as data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canFinish, type DeployedNode } from '../../src/elastic/driver.js';
import { findPreset } from '../../src/model/spec.js';
import { processName } from '../../src/runtime/process-name.js';

// alexnet-6: block1 x2, fc1 one replica of 2 shards, fc2 x1, one process per device
const stages = findPreset('alexnet-6').stages;
const nodes: DeployedNode[] = stages.flatMap((s) =>
  Array.from({ length: s.replicas * s.shards }, (_, k) => ({ name: processName({ role: s.role, replica: Math.floor(k / s.shards), shard: k % s.shards }, s.shards), role: s.role })),
).map((n, i) => ({ ...n, device: `dev${i + 1}`, endpoint: { host: '127.0.0.1', port: 9000 + i } }));
const deviceOf = (name: string) => nodes.find((n) => n.name === name)!.device;

test('a topology with a whole replica of every stage left can finish its frames; one with a stage gone cannot', () => {
  assert.equal(canFinish({ stages, nodes }, new Set()), true);
  assert.equal(canFinish({ stages, nodes }, new Set([deviceOf('block1.0')])), true, 'block1 has a second replica');
  assert.equal(canFinish({ stages, nodes }, new Set([deviceOf('block1.0'), deviceOf('block1.1')])), false, 'no block1 left');
  assert.equal(canFinish({ stages, nodes }, new Set([deviceOf('fc2.0')])), false, 'fc2 had one replica');
  // one shard lost breaks the only fc1 replica, though the other shard runs
  assert.ok(nodes.some((n) => n.name === 'fc1.0.s1'));
  assert.equal(canFinish({ stages, nodes }, new Set([deviceOf('fc1.0.s1')])), false);
});
