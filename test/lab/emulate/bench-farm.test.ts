// A short emulated farm run through the CLI, as CI runs it: alexnet-5 on four emulated Pi 3 (local
// processes in CPU-quota cgroups), a few frames. Checks the result JSON and that the HTML report
// renders in Chromium. Not a benchmark: the figures are only checked for consistency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli-run.js';
import { readRunResult } from '../../../src/report/write.js';
import { PROFILES } from '../../../src/lab/emulate/profiles.js';
import { dumpDom, renderCheck } from '../../report/chromium.js';

test('bench farm: alexnet-5 on emulated Pi 3s writes a consistent result and a report that renders', { timeout: 300_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'pfem-bench-'));
  try {
    const r = await cli(['bench', 'farm', '--preset', 'alexnet-5', '--emulate', 'pi3', '--frames', '10', '--warmup', '2', '--json', '--compare-paper', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    t.diagnostic(`IPS ${j.ips.toFixed(2)}, predicted ${j.predicted.ips.toFixed(2)}, quotas ${j.emulated.quotaCores.map((q: number) => (q * 100).toFixed(2)).join('/')}% of a core, throttled ${j.emulated.throttled.join('/')}`);
    assert.equal(j.kind, 'bench');
    assert.equal(j.preset, 'alexnet-5');
    assert.equal(j.devices, 5);
    assert.equal(j.completed, 10);
    assert.equal(j.emulation.profile, 'pi3');
    assert.equal(j.emulation.gflops, PROFILES.pi3!.gflops);
    // quota periods hold 10 ms of CPU, so only a busy stage is throttled in a 10-frame run: block1
    assert.ok(j.emulated.throttled.length === 4 && j.emulated.throttled[0] > 0, 'the busiest node process, block1, was throttled by its quota');
    for (const s of j.stages as Record<string, number>[]) {
      assert.ok(s.cpuMsPerFrame! > 0 && s.deviceMsPerFrame! > s.cpuMsPerFrame!, `${s.role}: the device time per frame is the CPU time here stretched by the quota`);
      assert.ok(s.predictedServiceMs! > s.predictedComputeMs! && s.predictedComputeMs! > 0, `${s.role}: the model's times are in the result`);
    }
    assert.ok(j.ips > 0 && j.predicted.ips > 0);
    assert.ok(Math.abs(j.predicted.ratio - j.ips / j.predicted.ips) < 1e-9);
    // block1 on a Pi 3 takes ~150-250 ms per frame: an unthrottled run would be 20x faster
    const block1 = j.stages.find((s: { role: string }) => s.role === 'block1');
    assert.ok(block1.serviceMs > 80, `block1 service ${block1.serviceMs} ms is Pi-3-like`);
    assert.deepEqual(j.stages.map((s: { hosts: string[] }) => s.hosts), [['block1.0'], ['fc1.0.s0', 'fc1.0.s1'], ['fc2.0']]);
    assert.ok(j.energy.staticJ > 0 && j.energy.dynamicJ > 0);

    const saved = readRunResult(j.report.json);
    assert.equal(saved.runId, j.runId);
    assert.equal(saved.ips, j.ips);
    const html = readFileSync(j.report.html, 'utf8');
    assert.match(html, /paper's published figures/);
    assert.match(html, /<th>device ms\/frame<\/th>/);
    const check = renderCheck(await dumpDom(j.report.html));
    assert.equal(check.rendered, 'ok', JSON.stringify(check));
    assert.deepEqual(check.charts.map((c) => c.id).sort(), ['chart-ips', 'chart-latency', 'chart-timeline', 'chart-topology']);
    assert.equal(saved.timeline!.length, 10, 'every completed frame is in the timeline');
    const blocks = saved.timeline!.reduce((a, f) => a + f.trace.length, 0);
    assert.equal(blocks, 10 * 4, 'each frame visits block1, both fc1 shards and fc2');
    assert.ok(check.charts.find((c) => c.id === 'chart-timeline')!.marks >= blocks);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bench farm: a stage that does not fit the emulated Pi\'s memory fails at load, saying so', { timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'pfem-bench-'));
  try {
    // 400 MB less 324 for the OS = 76 MB: fc2 alone holds 84 MB of weights, so it cannot fit
    const r = await cli(['bench', 'farm', '--preset', 'alexnet-5', '--emulate', 'pi3', '--ram', '400', '--frames', '4', '--out', out]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /killed for exceeding the emulated pi3's 76 MB \(RAM less the OS\): the stage does not fit this Pi/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
