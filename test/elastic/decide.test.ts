// When the live musical chair moves, as data: devices seen in, a move or the reason for none out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, DEFAULT_POLICY, planFor, type DeviceView } from '../../src/elastic/decide.js';
import { findPreset } from '../../src/model/spec.js';

const alexnet6 = findPreset('alexnet-6').stages;
const dev = (name: string, inUse: boolean, alive: boolean, losses: number[] = []): DeviceView => ({ name, inUse, alive, losses });
const five = (alive: (i: number) => boolean, inUse = (_i: number) => true) => Array.from({ length: 5 }, (_, i) => dev(`dev${i + 1}`, inUse(i), alive(i)));

test('a lost device always moves the farm, to the plan for the devices left', () => {
  const d = decide({ model: 'alexnet', current: alexnet6, devices: five((i) => i !== 0), now: 10_000, lastMoveAt: 9_000 });
  assert.equal(d.move, true);
  if (!d.move) return;
  assert.equal(d.why, 'dev1 lost');
  assert.deepEqual(d.devices, ['dev2', 'dev3', 'dev4', 'dev5']);
  assert.deepEqual(d.stages, planFor('alexnet', 4).stages);
  assert.ok(d.predictedBefore > 0 && d.predictedAfter > 0);
});

test('a device that joins moves the farm only for a gain of 15% and not sooner than the interval', () => {
  const four = planFor('alexnet', 4).stages;
  const devices = five(() => true, (i) => i !== 0);
  const soon = decide({ model: 'alexnet', current: four, devices, now: 10_000, lastMoveAt: 8_000 });
  assert.equal(soon.move, false);
  assert.match(soon.why ?? '', /dev1 joined, but the last move was 2\.0 s ago/);
  const later = decide({ model: 'alexnet', current: four, devices, now: 20_000, lastMoveAt: 8_000 });
  assert.equal(later.move, true);
  if (later.move) assert.ok(later.predictedAfter >= later.predictedBefore * 1.15, `${later.predictedAfter} vs ${later.predictedBefore}`);
  // the same join with a higher bar: no move, and the reason names the prediction
  const picky = decide({ model: 'alexnet', current: four, devices, now: 20_000, lastMoveAt: 8_000 }, { ...DEFAULT_POLICY, minGain: 0.5 });
  assert.equal(picky.move, false);
  assert.match(picky.why ?? '', /predicted 8\.\d\d IPS against 6\.\d\d now, less than 50% more/);
});

test('a device that flaps is held out for a while', () => {
  const four = planFor('alexnet', 4).stages;
  const flapper = dev('dev1', false, true, [5_000, 15_000]);
  const rest = [2, 3, 4, 5].map((i) => dev(`dev${i}`, true, true));
  assert.equal(decide({ model: 'alexnet', current: four, devices: [flapper, ...rest], now: 30_000, lastMoveAt: 0 }).move, false);
  // once the hold is over it joins
  assert.equal(decide({ model: 'alexnet', current: four, devices: [flapper, ...rest], now: 15_000 + DEFAULT_POLICY.holdMs + 1, lastMoveAt: 0 }).move, true);
});

test('nothing changed: no move', () => {
  assert.deepEqual(decide({ model: 'alexnet', current: alexnet6, devices: five(() => true), now: 10_000, lastMoveAt: 0 }), { move: false });
});

test('a device slower than planned by 2x or more moves the farm to a plan at the measured speeds; faster is not news', () => {
  const devices = five(() => true).map((d, i) => ({ ...d, speed: i === 0 ? 0.1 : 1.9 }));
  const d = decide({ model: 'alexnet', current: alexnet6, devices, now: 20_000, lastMoveAt: 0 });
  assert.equal(d.move, true);
  if (!d.move) return;
  assert.equal(d.why, 'dev1 runs at 0.10x (planned 1.00x)');
  // the others' speed-up is capped at nominal: the plan's prediction is for Pi 3s, dev1 at a tenth
  assert.ok(d.predictedAfter > d.predictedBefore * 1.15);
  const fast = decide({ model: 'alexnet', current: alexnet6, devices: five(() => true).map((x) => ({ ...x, speed: 2.5 })), now: 20_000, lastMoveAt: 0 });
  assert.deepEqual(fast, { move: false });
  // a slow device that recovers is news again
  const rec = decide({ model: 'alexnet', current: planFor('alexnet', 4).stages, devices: five(() => true).map((x, i) => ({ ...x, inUse: true, speed: 1, plannedSpeed: i === 0 ? 0.1 : 1 })), now: 20_000, lastMoveAt: 0 });
  assert.equal(rec.move, true);
});

test('the speed meter compares a node with its own first windows', async () => {
  const { SpeedMeter } = await import('../../src/elastic/speed.js');
  const m = new SpeedMeter();
  let busy = 0;
  let computed = 0;
  const step = (ms: number, t: number) => {
    busy += 5 * ms;
    computed += 5;
    m.observe('n', { busyMs: busy, computed }, t);
  };
  m.observe('n', { busyMs: 0, computed: 0 }, 0);
  for (let i = 1; i <= 3; i++) step(10, i * 1000);
  assert.equal(m.slowdown('n'), undefined);
  for (let i = 4; i <= 6; i++) step(40, i * 1000);
  assert.equal(m.slowdown('n'), 4);
  m.reset();
  assert.equal(m.slowdown('n'), undefined);
});
