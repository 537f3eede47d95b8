import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageQuotaCores } from '../../../src/lab/emulate/quota.js';

const machine = { gflops: 100, denseGflops: 10 };
const pi = { gflops: 4, denseGflops: 0.25 };

test('stage quota: time here over time on the Pi, per kind of layer, or the given Pi seconds', () => {
  // 1 GFLOP of conv: 10 ms here, 250 ms on the Pi
  assert.ok(Math.abs(stageQuotaCores([{ flop: 1e9, dense: false }], pi, machine) - 0.04) < 1e-12);
  // 0.1 GFLOP dense: 10 ms here, 400 ms on the Pi
  assert.ok(Math.abs(stageQuotaCores([{ flop: 1e8, dense: true }], pi, machine) - 0.025) < 1e-12);
  // the cost model's time for the layer replaces the profile's speed
  assert.ok(Math.abs(stageQuotaCores([{ flop: 1e9, dense: false, piSeconds: 0.5 }], pi, machine) - 0.02) < 1e-12);
});

test('stage quota: the runtime\'s work beyond the layers runs at the Pi\'s scalar slowdown, not the layers\' ratio', () => {
  // 10 ms of conv here (250 ms on the Pi) and 2 ms more of runtime work measured: 12 ms here,
  // 250 + 2 x 10 = 270 ms on the Pi
  const q = stageQuotaCores([{ flop: 1e9, dense: false }], pi, machine, { cpuSecondsPerFrame: 0.012, slowdown: 10 });
  assert.ok(Math.abs(q - 0.012 / 0.27) < 1e-12, String(q));
  // measured less than the layers' estimate: no runtime work, and the measured 8 ms (not the
  // estimated 10) must take the Pi's 250 ms
  assert.ok(Math.abs(stageQuotaCores([{ flop: 1e9, dense: false }], pi, machine, { cpuSecondsPerFrame: 0.008, slowdown: 10 }) - 0.032) < 1e-12);
});
