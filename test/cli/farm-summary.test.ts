// The closing line of a farm command says what failed: the hosts, and for up and run the run too
// (an up whose hosts were all fine but whose run completed nothing is a failed up).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatOutcome } from '../../src/cli/farm-common.js';
import type { FarmOutcome } from '../../src/farm/commands.js';
import type { CheckedRun } from '../../src/report/types.js';

const hostsOk = (command: string, extra: Partial<FarmOutcome> = {}): FarmOutcome => ({
  command,
  runs: [{ host: 'pi1', results: [{ step: 'start', status: 'ok', detail: '1 unit(s) already running', ms: 5 }], failed: false }],
  failed: [],
  ms: 1200,
  ...extra,
});
const report = (completed: number, ok: boolean) => ({ frames: 20, completed, check: { compared: 3, maxAbsDiff: ok ? 1e-7 : 0.5, tolerance: 1e-4, ok, top1Mismatches: 0 } }) as unknown as CheckedRun;

test('up: hosts fine, run completed nothing: the closing lines say the run failed', () => {
  const out = formatOutcome(hostsOk('up', { report: report(0, false) })).split('\n');
  assert.deepEqual(out.slice(-2), ['pifarm up: 1 host(s) ok in 1.2 s', 'the run FAILED: completed 0 of 20 frames']);
});

test('up: a wrong output and a run that did not start are failures too; a good run is not', () => {
  assert.match(formatOutcome(hostsOk('up', { report: report(20, false) })), /\nthe run FAILED: the output check failed \(max difference 5\.00e-1, tolerance 0\.0001\)$/);
  assert.match(formatOutcome(hostsOk('run', { runError: 'stage fc1 has no replica answering' })), /\nthe run FAILED: stage fc1 has no replica answering$/);
  assert.doesNotMatch(formatOutcome(hostsOk('up', { report: report(20, true) })), /FAILED/);
  assert.doesNotMatch(formatOutcome(hostsOk('up', { runError: 'not run under --check' })), /FAILED/);
  assert.doesNotMatch(formatOutcome(hostsOk('deploy')), /run FAILED/);
});
