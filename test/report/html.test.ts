// The HTML reports, opened in a real headless Chromium: every chart must have laid out with marks
// of non-zero size, and the page must need nothing from the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunReport, writeCompareReport, readRunResult } from '../../src/report/write.js';
import { syntheticRun } from './fixture.js';
import { dumpDom, renderCheck } from './chromium.js';

function noExternalRefs(html: string): void {
  const refs = [...html.matchAll(/(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);
  assert.deepEqual(refs.filter((r) => !r.startsWith('#')), [], 'no external scripts, styles or images');
  assert.ok(!/@import|url\((?!#)/.test(html), 'no CSS imports or external urls');
}

test('run report: JSON round-trips and every chart renders in Chromium', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pfem-report-'));
  try {
    const r = syntheticRun(40);
    const { jsonPath, htmlPath } = writeRunReport(r, root, { comparePaper: true });
    assert.equal(jsonPath, join(root, r.runId, 'result.json'));
    assert.equal(htmlPath, join(root, r.runId, 'index.html'));
    assert.deepEqual(readRunResult(join(root, r.runId)), JSON.parse(JSON.stringify(r)));
    const html = readFileSync(htmlPath, 'utf8');
    noExternalRefs(html);
    assert.match(html, /paper's published figures, not measured/);

    const check = renderCheck(await dumpDom(htmlPath));
    assert.equal(check.rendered, 'ok', JSON.stringify(check));
    const byId = new Map(check.charts.map((c) => [c.id, c]));
    assert.deepEqual([...byId.keys()].sort(), ['chart-ips', 'chart-latency', 'chart-timeline', 'chart-topology']);
    for (const c of check.charts) assert.ok(c.width > 200 && c.height > 50, `${c.id} laid out at ${c.width}x${c.height}`);
    const busyBlocks = r.timeline!.reduce((a, f) => a + f.trace.length, 0);
    assert.ok(byId.get('chart-timeline')!.marks >= busyBlocks, `timeline draws one block per trace (${busyBlocks}), saw ${byId.get('chart-timeline')!.marks}`);
    assert.ok(byId.get('chart-latency')!.marks >= 5, 'histogram bars');
    // 6 process boxes (sender, block1, 2 fc1 shards, fc2, sender) and the edges between columns
    assert.ok(byId.get('chart-topology')!.marks >= 6 + 1 + 2 + 2 + 1, `topology marks ${byId.get('chart-topology')!.marks}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('comparison report of two runs renders its charts', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pfem-report-'));
  try {
    const a = syntheticRun(30, 'run-a');
    const b = { ...syntheticRun(30, 'run-b'), preset: 'alexnet-6', devices: 6, ips: 5.1 };
    const { htmlPath, id } = writeCompareReport([a, b], root, { comparePaper: true });
    assert.equal(htmlPath, join(root, `compare-${id}`, 'index.html'));
    const html = readFileSync(htmlPath, 'utf8');
    noExternalRefs(html);
    const check = renderCheck(await dumpDom(htmlPath));
    assert.equal(check.rendered, 'ok', JSON.stringify(check));
    const ips = check.charts.find((c) => c.id === 'chart-compare-ips');
    assert.ok(ips && ips.marks >= 2 + 4, 'a bar per run and per paper system');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
