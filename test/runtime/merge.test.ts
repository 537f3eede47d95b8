import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MergeBuffer } from '../../src/runtime/merge.js';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('shards of one frame are merged in shard order, whatever order they arrive in', () => {
  const m = new MergeBuffer<string>({ shards: 3, capacity: 8, timeoutMs: 100 });
  assert.equal(m.add(7, 2, 'c7'), null);
  assert.equal(m.add(7, 0, 'a7'), null);
  assert.deepEqual(m.add(7, 1, 'b7'), ['a7', 'b7', 'c7']);
  assert.equal(m.size, 0);
  assert.equal(m.merged, 1);
});

test('interleaved frames never mix: each frame gets only its own shards', () => {
  const m = new MergeBuffer<string>({ shards: 2, capacity: 8, timeoutMs: 100 });
  assert.equal(m.add(1, 0, 'a1'), null);
  assert.equal(m.add(2, 0, 'a2'), null);
  assert.equal(m.add(3, 1, 'b3'), null);
  assert.deepEqual(m.add(2, 1, 'b2'), ['a2', 'b2']);
  assert.deepEqual(m.add(3, 0, 'a3'), ['a3', 'b3']);
  assert.deepEqual(m.add(1, 1, 'b1'), ['a1', 'b1']);
  assert.equal(m.dropped, 0);
});

test('a frame missing a shard is dropped after the timeout and counted; its late shard is ignored', () => {
  const c = clock();
  const drops: [number, string, number][] = [];
  const m = new MergeBuffer<string>({ shards: 2, capacity: 8, timeoutMs: 100, now: c.now, onDrop: (id, why, have) => drops.push([id, why, have]) });
  m.add(1, 0, 'a1');
  c.advance(50);
  m.add(2, 0, 'a2');
  c.advance(60);
  assert.deepEqual(m.sweep(), [1]);
  assert.deepEqual(drops, [[1, 'timeout', 1]]);
  // The late half of frame 1 must not start a new frame nor complete frame 2.
  assert.equal(m.add(1, 1, 'b1'), null);
  assert.equal(m.late, 1);
  assert.equal(m.size, 1);
  assert.deepEqual(m.add(2, 1, 'b2'), ['a2', 'b2']);
  assert.equal(m.dropped, 1);
});

test('a full buffer drops its oldest frame, never merges across frames', () => {
  const m = new MergeBuffer<string>({ shards: 2, capacity: 2, timeoutMs: 1e9 });
  m.add(1, 0, 'a1');
  m.add(2, 0, 'a2');
  m.add(3, 0, 'a3'); // evicts frame 1
  assert.equal(m.dropped, 1);
  assert.equal(m.add(1, 1, 'b1'), null);
  assert.deepEqual(m.add(3, 1, 'b3'), ['a3', 'b3']);
});

test('a duplicate shard is counted and ignored; a shard index out of range throws', () => {
  const m = new MergeBuffer<string>({ shards: 2, capacity: 4, timeoutMs: 100 });
  m.add(5, 0, 'a5');
  assert.equal(m.add(5, 0, 'x5'), null);
  assert.equal(m.duplicates, 1);
  assert.deepEqual(m.add(5, 1, 'b5'), ['a5', 'b5']);
  assert.throws(() => m.add(6, 2, 'z'), /shard 2 of frame 6 is outside 0\.\.1/);
});
