import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogram, ipsOverTime, lanes, percentile, busyMsPerFrameByHost } from '../../src/report/figures.js';
import { energyPerInference, energyOfRun, EnergyError } from '../../src/report/energy.js';
import { compareRows, rowCells, COMPARE_HEAD } from '../../src/report/compare.js';
import { paperPiFarm } from '../../src/report/paper-data.js';
import { checkRunResult, RunResultError } from '../../src/report/validate.js';
import { syntheticRun } from './fixture.js';

const PI3 = { idleW: 1.3, busyW: 6.5 };

test('percentile and histogram', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.ok(Number.isNaN(percentile([], 50)));
  const h = histogram([1, 2, 2, 3, 10], 3);
  assert.equal(h.length, 3);
  assert.deepEqual(h.map((b) => b.count), [4, 0, 1]);
  assert.equal(h.reduce((a, b) => a + b.count, 0), 5);
});

test('IPS buckets count completed frames per second', () => {
  const series = ipsOverTime([
    { id: 0, sentAt: 0, doneAt: 100, trace: [] },
    { id: 1, sentAt: 0, doneAt: 900, trace: [] },
    { id: 2, sentAt: 0, doneAt: 2100, trace: [] },
    { id: 3, sentAt: 0, trace: [] },
  ]);
  // 2.1 s run: 200 ms buckets; the last one (2000..2100 ms) is rated over the 100 ms it covers
  assert.equal(series.length, 11);
  assert.deepEqual(series[0], { t: 0, ips: 5 });
  assert.deepEqual(series[4], { t: 0.8, ips: 5 });
  assert.deepEqual(series[10], { t: 2, ips: 10 });
  assert.deepEqual(ipsOverTime([{ id: 0, sentAt: 0, doneAt: 100, trace: [] }, { id: 1, sentAt: 0, doneAt: 900, trace: [] }, { id: 2, sentAt: 0, doneAt: 25_500, trace: [] }], 1000).slice(0, 2), [{ t: 0, ips: 2 }, { t: 1, ips: 0 }]);
});

test('lanes follow the pipeline order, one per process, with utilisation', () => {
  const r = syntheticRun(20);
  const ls = lanes(r.timeline!);
  assert.deepEqual(ls.map((l) => l.key), ['block1 r0 s0 @ vpi1', 'fc1 r0 s0 @ vpi2', 'fc1 r0 s1 @ vpi3', 'fc2 r0 s0 @ vpi4']);
  assert.ok(ls[0]!.utilization > 0.8 && ls[0]!.utilization <= 1, `block1 is the bottleneck: ${ls[0]!.utilization}`);
  assert.ok(ls[3]!.utilization < ls[0]!.utilization);
  const reordered = lanes([...r.timeline!].map((f) => ({ ...f, trace: [...f.trace].reverse() })), ['block1', 'fc1', 'fc2']);
  assert.deepEqual(reordered.map((l) => l.key), ls.map((l) => l.key), 'the stage order wins over the order of appearance');
});

test('static energy matches the paper: 5 Pi 3 at 4.33 IPS', () => {
  const devices = ['s', 'a', 'b', 'c', 'd'].map((host) => ({ host, power: PI3 }));
  const e = energyPerInference({ ips: 4.33, devices, busyMsPerFrame: new Map([['a', 100], ['b', 50]]) });
  assert.equal(e.staticJ.toFixed(2), paperPiFarm('alexnet', 5)!.staticJ.toFixed(2));
  // dynamic: (6.5-1.3) W x 0.15 s
  assert.ok(Math.abs(e.dynamicJ - 5.2 * 0.15) < 1e-9);
  assert.ok(Math.abs(e.totalJ - e.staticJ - e.dynamicJ) < 1e-12);
});

test('energy of a run uses the traces; a host without power figures is an error naming it', () => {
  const r = syntheticRun(20);
  const busy = busyMsPerFrameByHost(r.timeline!);
  assert.ok(Math.abs(busy.get('vpi1')! - 180) < 6);
  const e = energyOfRun(r, () => PI3, 'control');
  assert.ok(Math.abs(e.staticJ - (5 * 1.3) / r.ips) < 1e-9, 'five devices idle power over 1/IPS');
  assert.ok(e.dynamicJ > 5.2 * 0.3 && e.dynamicJ < 5.2 * 0.5, `dynamic ${e.dynamicJ}`);
  assert.throws(() => energyOfRun(r, (h) => (h === 'vpi3' ? undefined : PI3)), (err: Error) => err instanceof EnergyError && /vpi3/.test(err.message));
});

test('comparison rows label the paper figures as the paper\'s', () => {
  const rows = compareRows([syntheticRun(10)], true);
  assert.equal(rows[0]!.source, 'ours');
  const paper = rows.filter((r) => r.source === 'paper');
  assert.deepEqual(paper.map((p) => p.ips), [7.12, 5.57, 4.33, 5.72]);
  assert.ok(paper.every((p) => rowCells(p)[0] === 'paper'));
  assert.equal(rowCells(rows[0]!).length, COMPARE_HEAD.length);
  assert.equal(compareRows([syntheticRun(10)], false).length, 1);
});

test('a result file with a bad field is refused naming the file and the field', () => {
  const r = syntheticRun(5) as unknown as Record<string, unknown>;
  assert.equal(checkRunResult(JSON.parse(JSON.stringify(r)), 'x.json').runId, 'test-run-1');
  assert.throws(() => checkRunResult({ ...r, ips: 'fast' }, 'runs/a/result.json'), (e: Error) => e instanceof RunResultError && /runs\/a\/result.json.*"ips"/.test(e.message));
  const stages = [{ role: 'x', replicas: 1, shards: 1, serviceMs: 'n' }];
  assert.throws(() => checkRunResult({ ...r, stages }, 'f.json'), /stages\[0\].*serviceMs/);
});
