import { test } from 'node:test';
import assert from 'node:assert/strict';
import { steadyWindow, throughput, type Completion } from '../../src/runtime/measure.js';

const c = (id: number, at: number): Completion => ({ id, at, latency: 0, trace: [] });

test('closed loop: the window runs from the first measured send to the (N-W)-th completion', () => {
  // 10 frames, 3 in flight, 2 warm-up (frame 2 sent at 50): full pipeline until completion #7.
  const done = Array.from({ length: 10 }, (_, i) => c(i, 100 + 10 * i));
  const w = steadyWindow(done, { firstMeasured: 50 }, 2, 3, 0, 999);
  assert.equal(w.steadyStart, 50);
  assert.equal(w.steadyEnd, 160);
  assert.deepEqual(w.steady.map((x) => x.id), [2, 3, 4, 5, 6]);
});

test('a run too short for a full window falls back to a span that can only under-estimate', () => {
  // Everything sent at once and completing in a burst: no full-pipeline span exists.
  const done = Array.from({ length: 6 }, (_, i) => c(i, 1000 + i));
  const w = steadyWindow(done, { firstMeasured: 5 }, 1, 8, 0, 2000);
  assert.equal(w.steadyStart, 5);
  assert.equal(w.steadyEnd, 1005);
  assert.equal(w.steady.length, 5);
  // 5 frames over ~1 s: about 5 IPS, not the 5000 IPS the burst would suggest.
  assert.ok((w.steady.length * 1000) / (w.steadyEnd - w.steadyStart) < 6);
});

test("closed loop IPS by Little's law: frames in flight over mean latency, drain excluded", () => {
  // 4 in flight, every frame takes 200 ms: 20 IPS whatever the completion bursts look like.
  const done = Array.from({ length: 12 }, (_, i) => ({ id: i, at: 1000 + 50 * i, latency: i >= 8 ? 50 : 200, trace: [] }));
  const t = throughput(done, 3, 4, 0, 0);
  assert.equal(t.ipsMethod, 'little', 'five completions with the pipeline full are too few for the rate');
  assert.equal(t.ips, 20);
  const six = throughput(done, 2, 4, 0, 0);
  assert.equal(six.ipsMethod, 'rate');
  assert.ok(Math.abs(six.ips - 20) < 1e-9, String(six.ips));
  assert.deepEqual(throughput(done, 2, null, 10, 500), { ips: 20, ipsMethod: 'span' });
});

test('closed loop: the rate is the slope of completions over time, whatever bursts the replicas finish in', () => {
  // 5 replicas finishing together every 500 ms: 10 IPS. The frames that finish first in each
  // burst have short latencies, so Little's law over them would read high.
  const done: Completion[] = [];
  for (let b = 0; b < 8; b++) for (let k = 0; k < 5; k++) done.push({ id: done.length, at: 1000 + 500 * b + k, latency: 300 + 100 * k, trace: [] });
  const t = throughput(done, 5, 9, 0, 0);
  assert.equal(t.ipsMethod, 'rate');
  assert.ok(Math.abs(t.ips - 10) < 0.3, String(t.ips));
  // the same completions cut at a burst's start or end give the same rate (a span would not)
  assert.ok(Math.abs(throughput(done.slice(0, 37), 5, 9, 0, 0).ips - 10) < 0.6);
});
