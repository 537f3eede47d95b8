// Data-parallel failover on alexnet-6 as local processes (block1 x2 -> fc1 halves -> fc2):
//  1. both block1 replicas: the two-replica rate;
//  2. one replica SIGKILLed mid-run: the run completes, frames lost at most the window, every frame
//     counted once, and the rate afterwards is what one replica sustains;
//  3. a run with that replica still dead: the one-replica rate (the reference for 2);
//  4. the replica restarted mid-run: the sender uses it again (frames through it) and the rate
//     after its return is the two-replica rate again.
// Rates are compared as ratios within this test (a shared 2-core machine whose load drifts): every
// rate is completions over the time they span, taken the same way in every phase, and each
// reference is the mean of a run just before and a run just after the phase it is compared with.
// The one-replica reference streams to replica 0 alone (no failover involved).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset, loadModelSpec } from '../../src/model/spec.js';
import { DEFAULT_SEED } from '../../src/model/weights.js';
import { launchLocalFarm, startNodeProcesses, type LocalFarm, type NodeProcesses } from '../../src/farm/local-launch.js';
import { nowMs } from '../../src/runtime/protocol.js';
import { runSender, type SenderReport } from '../../src/runtime/sender.js';
import { waitFor } from './wait.js';

const WINDOW = 8;
const preset = findPreset('alexnet-6');
const spec = loadModelSpec(preset.model);
let farm: LocalFarm;
let restarted: NodeProcesses | null = null;
const logs: string[] = [];

before(async () => {
  farm = await launchLocalFarm({ model: preset.model, stages: preset.stages, engine: 'onnx', threads: 1, seed: DEFAULT_SEED });
});
after(async () => {
  await restarted?.stop();
  await farm?.stop();
});

let idBase = 0;
function stream(frames: number, during?: (t0: number) => void, only0 = false): Promise<SenderReport> {
  const base = idBase;
  idBase += frames;
  const p = runSender({
    input: spec.input, first: only0 ? { ...farm.first, endpoints: farm.first.endpoints.slice(0, 1) } : farm.first, lastShards: farm.lastShards, listen: { host: '127.0.0.1', port: farm.senderPort },
    frames, warmup: 10, window: WINDOW, idBase: base, sampleIds: [], keepTimeline: true, maxMessageBytes: farm.maxMessageBytes,
    frameTimeoutMs: 20_000, log: (m) => logs.push(m),
  });
  during?.(nowMs());
  return p;
}

/** Completions per second between the completions inside (from, to], before the closing drain. */
function rate(r: SenderReport, from = -Infinity, to = Infinity): { ips: number; n: number } {
  const times = r.timeline!.map((x) => x.doneAt).slice(10, r.timeline!.length - WINDOW).filter((t) => t > from && t <= to);
  if (times.length < 2) return { ips: NaN, n: times.length };
  return { ips: ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!), n: times.length };
}

const block1 = (replica: number) => farm.nodes.find((n) => n.config.role === 'block1' && n.config.replica === replica)!;
const through = (r: SenderReport, replica: number, after = -Infinity) => r.timeline!.filter((x) => x.doneAt > after && x.trace.some((h) => h.role === 'block1' && h.replica === replica)).length;

test('alexnet-6: a block1 replica killed mid-run, then restarted mid-run: failover and return', async () => {
  // 1. both replicas; replica 0 alone
  const two = await stream(120);
  assert.equal(two.completed, 120);
  const ips2 = rate(two).ips;
  assert.ok(through(two, 0) > 20 && through(two, 1) > 20, 'both replicas take frames');
  const oneBefore = rate(await stream(120, undefined, true)).ips;

  // 2. kill replica 1 a third of the way in
  let killedAt = 0;
  const frames = 240;
  const killed = await stream(frames, () => {
    setTimeout(() => {
      killedAt = nowMs();
      block1(1).child.kill('SIGKILL');
    }, ((frames / ips2) * 1000) / 3);
  });
  assert.ok(killedAt > 0);
  assert.equal(killed.completed + killed.dropped, frames, 'every frame accounted once');
  assert.ok(killed.dropped <= WINDOW, `${killed.dropped} frames lost, more than the window ${WINDOW}`);
  assert.ok(killed.failover.downs >= 1, 'the replica was declared down');
  assert.ok(killed.failover.resent <= WINDOW, `${killed.failover.resent} re-sent`);
  assert.ok(logs.some((l) => /replica 1 \(127\.0\.0\.1:\d+\) is down \(.*\): \d+ of \d+ frame\(s\) in flight re-sent to 1 live replica/.test(l)), logs.join('\n'));
  const settle = killedAt + 1000;
  assert.equal(through(killed, 1, settle), 0, 'no frame through the dead replica');
  const afterKill = rate(killed, settle);
  assert.ok(afterKill.n >= 40, `only ${afterKill.n} completions after the kill`);

  // 3. the dead replica stays out of a new run; replica 0 alone again
  const one = await stream(120);
  assert.equal(one.completed, 120);
  assert.equal(through(one, 1), 0);
  const ips1 = (oneBefore + rate(await stream(120, undefined, true)).ips) / 2;

  // 4. restart replica 1 a quarter of the way into a run; it must be used again
  let backAt = 0;
  const again = await stream(360, () => {
    setTimeout(() => {
      void startNodeProcesses([block1(1).config], { maxMessageBytes: farm.maxMessageBytes }).then((p) => {
        restarted = p;
        backAt = nowMs();
      });
    }, ((120 / ips1) * 1000) / 2);
  });
  await waitFor('the restarted replica', () => backAt > 0, 30_000);
  assert.equal(again.completed, 360);
  assert.equal(again.dropped, 0);
  const rejoin = backAt + 1000;
  const used = through(again, 1, rejoin);
  const afterBack = rate(again, rejoin);
  const twoAfter = await stream(120);
  assert.ok(through(twoAfter, 1) > 20, 'a new run uses the restarted replica too');
  const ips2ref = (ips2 + rate(twoAfter).ips) / 2;
  console.log(
    `failover: two replicas ${ips2.toFixed(1)} IPS, replica 0 alone ${oneBefore.toFixed(1)}; after the kill ${afterKill.ips.toFixed(1)} (${afterKill.n} frames), one replica ${ips1.toFixed(1)}: ratio ${(afterKill.ips / ips1).toFixed(2)}; ` +
      `lost ${killed.dropped}, re-sent ${killed.failover.resent}, duplicates ${killed.duplicates}; after the restart ${afterBack.ips.toFixed(1)} (${afterBack.n} frames, ${used} through replica 1), two replicas ${ips2ref.toFixed(1)}: ratio ${(afterBack.ips / ips2ref).toFixed(2)}`,
  );
  assert.ok(used > 20, `only ${used} frames through the restarted replica`);
  assert.ok(Math.abs(afterKill.ips / ips1 - 1) <= 0.15, `after the kill ${afterKill.ips.toFixed(1)} IPS vs one replica ${ips1.toFixed(1)}`);
  assert.ok(afterBack.ips / ips2ref >= 0.85, `after the restart ${afterBack.ips.toFixed(1)} IPS vs two replicas ${ips2ref.toFixed(1)}`);
});
