import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer } from '../../src/runtime/balancer.js';

test('round-robin takes replicas in turn', () => {
  const b = new Balancer(3, 'round-robin');
  assert.deepEqual([10, 11, 12, 13, 14, 15, 16].map((id) => b.pick(id)), [0, 1, 2, 0, 1, 2, 0]);
});

test('a sharded sender picks by frame id so every shard of a frame meets at one replica', () => {
  // Two independent balancers, as two shards of a stage have, must agree for every frame.
  const s0 = new Balancer(3, 'least-loaded', true);
  const s1 = new Balancer(3, 'round-robin', true);
  s0.report(0, 100); // load reports must not change the choice
  const ids = [5, 9, 2, 2, 14, 0, 7];
  assert.deepEqual(ids.map((id) => s0.pick(id)), ids.map((id) => s1.pick(id)));
  assert.deepEqual(ids.map((id) => s0.pick(id)), ids.map((id) => id % 3));
});

test('least-loaded prefers the replica with the fewest frames reported plus sent since', () => {
  const b = new Balancer(3, 'least-loaded');
  b.report(0, 5);
  b.report(1, 0);
  b.report(2, 2);
  assert.equal(b.pick(1), 1);
  assert.equal(b.pick(2), 1);
  // Loads are now [5, 2, 2]: a tie, broken in turn after the last pick.
  assert.equal(b.pick(3), 2);
  assert.equal(b.pick(4), 1); // [5, 2, 3]
  assert.equal(b.load(1), 3);
  assert.equal(b.load(0), 5);
  b.report(1, 0);
  assert.equal(b.load(1), 0);
});

test('least-loaded spreads equal loads instead of piling on one replica', () => {
  const b = new Balancer(2, 'least-loaded');
  const picks = [1, 2, 3, 4].map((id) => b.pick(id));
  assert.deepEqual(picks.sort(), [0, 0, 1, 1]);
});
