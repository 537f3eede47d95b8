// The live musical chair on local processes: a block1 device loses its power mid-stream (its
// processes SIGKILLed, the controller not told), the farm re-plans for the devices left and moves
// without stopping; the device comes back and a second move uses it again. Every frame completes
// exactly once (checked by frame id from the results file) and the outputs equal the whole model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = new URL('../../../src/cli/main.js', import.meta.url).pathname;

test('alexnet-6 --elastic: a block1 device lost and back, two live moves, every frame once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-elastic-'));
  const results = join(dir, 'frames.jsonl');
  try {
    // 30 frames/s for 24 s: lost at 3 s, back at 9 s; the join may move 5 s after the first move
    const r = spawnSync(process.execPath, [cli, 'demo', '--preset', 'alexnet-6', '--elastic', '--lose', 'block1@3-9', '--frames', '720', '--rate', '30', '--results', results, '--json'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.completed, 720);
    assert.equal(j.dropped, 0);
    assert.ok(j.check.ok, `max |diff| ${j.check.maxAbsDiff}`);
    assert.equal(j.check.compared, 8);
    assert.equal(j.moves.length, 2, JSON.stringify(j.moves));
    const [lost, back] = j.moves;
    assert.equal(lost.why, 'dev1 lost');
    assert.ok(!lost.devices.includes('dev1') && lost.devices.length === 4);
    // found by its probes within about 2 s of the loss (at 3 s), moved while frames flowed
    assert.ok(lost.atMs > 3000 && lost.atMs < 6500, `the loss was acted on at ${lost.atMs} ms`);
    assert.ok(lost.predictedAfter > 0 && lost.startMs > 0);
    assert.equal(back.why, 'dev1 joined');
    assert.ok(back.devices.includes('dev1') && back.devices.length === 5);
    assert.ok(back.atMs > 9000, `the join at ${back.atMs} ms`);
    assert.ok(back.predictedAfter >= back.predictedBefore * 1.15);
    assert.equal(j.sender.moves.epochs, 3);
    // every frame id once
    const ids = readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l).frame as number);
    assert.equal(ids.length, 720);
    assert.equal(new Set(ids).size, 720);
    assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 720 }, (_, i) => i));
    // the text output tells each move
    const text = spawnSync(process.execPath, [cli, 'demo', '--preset', 'alexnet-5', '--elastic', '--lose', 'fc2@2', '--frames', '150', '--rate', '30'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /live moves: 1 .*\n {2}at \d+\.\d s, dev\d lost: block1 x1 -> fc1 x1 \(2 shards\) -> fc2 x1 {2}=> {2}\S.* on 3 device\(s\); predicted/);
    assert.match(text.stdout, /completed 150, dropped 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('alexnet-6 --elastic: a block1 device slowed to 5% of a core (a CPU quota) is found by its own times and the farm rebalances: IPS after the move is higher', () => {
  const r = spawnSync(process.execPath, [cli, 'demo', '--preset', 'alexnet-6', '--elastic', '--throttle', 'block1@4:0.05', '--frames', '1200', '--window', '10', '--json'], { encoding: 'utf8', timeout: 150_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.completed, 1200);
  assert.ok(j.check.ok);
  assert.ok(j.moves.length >= 1, r.stderr);
  const m = j.moves[0];
  assert.match(m.why, /^dev1 runs at 0\.\d\dx \(planned 1\.00x\)$/, r.stderr);
  // planned for the speeds measured: the slow device gets no work (or little), the prediction rises
  assert.ok(m.predictedAfter > m.predictedBefore * 1.15, `${m.predictedBefore} -> ${m.predictedAfter}`);
  assert.ok(m.measuredBefore > 0 && m.measuredAfter > m.measuredBefore, `measured here: ${m.measuredBefore} -> ${m.measuredAfter} IPS`);
});

test('alexnet-6 --elastic: a block1 device that goes silent (its processes stopped, no FIN) is found lost about 2 s later by its silence; every frame once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-elastic-'));
  const results = join(dir, 'frames.jsonl');
  try {
    // the text report: its log on stderr says why dev1 was called lost
    const r = spawnSync(process.execPath, [cli, 'demo', '--preset', 'alexnet-6', '--elastic', '--lose', 'block1@3:silent', '--frames', '450', '--rate', '30', '--results', results], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /completed 450, dropped 0/);
    assert.match(r.stdout, /output check: .*: OK/);
    assert.match(r.stdout, /live moves: 1 [\s\S]*dev1 lost: /);
    // a silent device refuses nothing: it is called lost after 2 s without an answer
    assert.match(r.stderr, /dev1 \(running block1\) goes silent\n[\s\S]*elastic: dev1 lost \(no answer for 2\.\d s\)/);
    assert.doesNotMatch(r.stderr, /refuses connections/);
    const ids = readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l).frame as number);
    assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 450 }, (_, i) => i));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--lose needs --elastic and a role of the topology; a bad spec says what is expected', () => {
  const run = (...a: string[]) => spawnSync(process.execPath, [cli, 'demo', '--preset', 'alexnet-5', ...a], { encoding: 'utf8', timeout: 60_000 });
  assert.match(run('--lose', 'block1@3').stderr, /--lose, --throttle and --devices go with --elastic/);
  assert.match(run('--elastic', '--lose', 'block1').stderr, /--lose block1: expected ROLE@SECONDS or ROLE@SECONDS-SECONDS, and :silent/);
  assert.match(run('--elastic', '--lose', 'block1@3:quiet').stderr, /--lose block1@3:quiet: expected ROLE@SECONDS/);
  assert.match(run('--elastic', '--throttle', 'block1@2').stderr, /--throttle block1@2: expected ROLE@SECONDS:CORES/);
  assert.match(run('--elastic', '--lose', 'block9@2', '--frames', '5').stderr, /--lose block9@2: the topology has no role block9 \(it has block1, fc1, fc2\)/);
});
