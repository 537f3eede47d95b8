// `pifarm demo --report DIR`: the demo writes its RunResult and an HTML report that renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunResult } from '../../src/report/write.js';
import { dumpDom, renderCheck } from './chromium.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('demo --report writes result.json with the timeline and a report whose charts render', { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'pfem-demo-'));
  try {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'demo', '--preset', 'alexnet-5', '--frames', '12', '--warmup', '2', '--json', '--report', out], { timeout: 170_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as { report: { jsonPath: string; htmlPath: string }; timeline?: unknown; completed: number };
    assert.equal(printed.timeline, undefined, 'the printed JSON stays without the per-frame traces');
    const saved = readRunResult(printed.report.jsonPath);
    assert.equal(saved.kind, 'demo');
    assert.equal(saved.preset, 'alexnet-5');
    assert.equal(saved.completed, printed.completed);
    assert.equal(saved.timeline!.length, saved.completed);
    assert.ok(saved.check?.ok, 'the output check result is carried over');
    const check = renderCheck(await dumpDom(printed.report.htmlPath));
    assert.equal(check.rendered, 'ok', JSON.stringify(check));
    assert.equal(check.charts.length, 4);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
