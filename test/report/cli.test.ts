// `pifarm report DIR...` as a user runs it: the text table, the HTML comparison, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRunReport } from '../../src/report/write.js';
import { syntheticRun } from './fixture.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('pifarm report compares runs in a table and an HTML page; bad directories are named', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pfem-report-cli-'));
  try {
    writeRunReport(syntheticRun(12, 'run-one'), root);
    writeRunReport({ ...syntheticRun(12, 'run-two'), preset: 'alexnet-6', devices: 6 }, root);
    const r = await cli(['report', join(root, 'run-one'), join(root, 'run-two', 'result.json'), '--compare-paper', '--out', root]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.ok(lines.some((l) => /^ours\s+run-one\s+alexnet\s+alexnet-5\s+5\b/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^ours\s+run-two\s+alexnet\s+alexnet-6\s+6\b/.test(l)));
    assert.ok(lines.some((l) => /^paper\s+published\s+alexnet\s+5 Raspberry Pi 3\s+5\s.*4\.33/.test(l)), 'the paper\'s 5-Pi AlexNet row, labelled');
    const html = /HTML: (.*)$/m.exec(r.stdout)?.[1];
    assert.ok(html && existsSync(html) && html.startsWith(join(root, 'compare-')));

    const missing = await cli(['report', join(root, 'nope')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /nope: no such file or directory/);
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', 'result.json'), '{"runId": 3}');
    const broken = await cli(['report', join(root, 'broken')]);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /broken\/result\.json: field "runId" must be a string/);
    const none = await cli(['report']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /give at least one run directory/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
