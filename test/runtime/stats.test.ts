import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeTraces, percentile, processFigures, summarize } from '../../src/runtime/stats.js';
import type { Hop } from '../../src/runtime/protocol.js';

test('percentiles interpolate between closest ranks', () => {
  const v = [10, 1, 4, 3, 2, 5, 6, 7, 8, 9];
  assert.equal(percentile(v, 50), 5.5);
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile(v, 100), 10);
  assert.ok(Math.abs(percentile(v, 95) - 9.55) < 1e-9);
  assert.ok(Number.isNaN(percentile([], 50)));
  const s = summarize([2, 4, 6]);
  assert.equal(s.mean, 4);
  assert.equal(s.p50, 4);
  assert.equal(s.max, 6);
  assert.equal(s.n, 3);
});

const hop = (role: string, replica: number, shard: number, arrival: number, start: number, end: number): Hop => ({ role, replica, shard, host: 'h', arrival, start, end });

test('per-process service time, wait and utilisation come from the traces', () => {
  const traces = [
    [hop('a', 0, 0, 0, 1, 11), hop('b', 0, 0, 12, 12, 17)],
    [hop('a', 1, 0, 5, 5, 15), hop('b', 0, 0, 16, 18, 23)],
    [hop('a', 0, 0, 20, 20, 30), hop('b', 0, 0, 31, 31, 36)],
  ];
  const f = processFigures(traces, { start: 0, end: 100 });
  const a0 = f.find((x) => x.role === 'a' && x.replica === 0)!;
  const b0 = f.find((x) => x.role === 'b')!;
  assert.equal(a0.frames, 2);
  assert.equal(a0.serviceMs.mean, 10);
  assert.equal(a0.utilization, 0.2);
  assert.equal(b0.frames, 3);
  assert.equal(b0.utilization, 0.15);
  assert.equal(b0.waitMs.max, 2);
  // Clipped to a window: a0's hops 1..11 and 20..30 inside 5..25 count 6 + 5 ms.
  const c = processFigures(traces, { start: 5, end: 25 }).find((x) => x.role === 'a' && x.replica === 0)!;
  assert.equal(c.utilization, 11 / 20);
  assert.equal(c.serviceMs.mean, 10);
});

test('merged shard traces keep each process once, in arrival order', () => {
  const common = hop('conv', 0, 0, 0, 0, 10);
  const merged = mergeTraces([
    [common, hop('fc1', 0, 1, 11, 11, 15)],
    [common, hop('fc1', 0, 0, 10.5, 11, 14)],
  ]);
  assert.deepEqual(merged.map((h) => `${h.role}/${h.shard}`), ['conv/0', 'fc1/0', 'fc1/1']);
});
