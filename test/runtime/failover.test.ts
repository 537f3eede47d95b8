// Data-parallel failover on alexnet-6 as local processes (block1 x2 -> fc1 halves -> fc2):
//  1. both block1 replicas: the two-replica rate;
//  2. one replica SIGKILLed mid-run: the run completes, frames lost at most the window, every frame
//     counted once, and the rate afterwards is what one replica sustains;
//  3. a run with that replica still dead: the one-replica rate (the reference for 2);
//  4. the replica restarted mid-run: the sender uses it again (frames through it) and the rate
//     after its return is the two-replica rate again.
// Rates are compared as ratios within this test. On a shared 2-core machine other processes take
// a share of the CPU that changes within seconds (measured here: the same two-replica run at 14
// and at 88 IPS minutes apart), so each phase's rate is frames per CPU-second our pipeline got
// (every live node's CPU time plus the sender's): IPS divided by the CPU share the pipeline had,
// which is what the pipeline would sustain alone. Phases are also taken in alternation and pooled.
// A failover that stalls (waiting on timeouts) or wastes work (frames to a dead replica, re-send
// storms) lowers that figure; the machine's load does not. Raw IPS are printed alongside.
// The one-replica reference streams to replica 0 alone (no failover involved).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset, loadModelSpec } from '../../src/model/spec.js';
import { DEFAULT_SEED } from '../../src/model/weights.js';
import { askStats, launchLocalFarm, startNodeProcesses, type LocalFarm, type LocalNode, type NodeProcesses } from '../../src/lab/local-launch.js';
import { nowMs } from '../../src/runtime/protocol.js';
import { runSender, type SenderReport } from '../../src/runtime/sender.js';
import { waitFor } from '../wait.js';

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
function stream(frames: number, only0 = false): Promise<SenderReport> {
  const base = idBase;
  idBase += frames;
  const p = runSender({
    input: spec.input, first: only0 ? { ...farm.first, endpoints: farm.first.endpoints.slice(0, 1) } : farm.first, lastShards: farm.lastShards, listen: { host: '127.0.0.1', port: farm.senderPort },
    frames, warmup: 10, window: WINDOW, idBase: base, sampleIds: [], keepTimeline: true, maxMessageBytes: farm.maxMessageBytes,
    frameTimeoutMs: 20_000, log: (m) => logs.push(m),
  });
  return p;
}

interface Rate {
  ips: number;
  n: number;
  /** the span of those completions */
  ms: number;
}

/** Completions per second between the completions inside (from, to], before the closing drain. */
function rate(r: SenderReport, from = -Infinity, to = Infinity): Rate {
  const times = r.timeline!.map((x) => x.doneAt).slice(10, r.timeline!.length - WINDOW).filter((t) => t > from && t <= to);
  if (times.length < 2) return { ips: NaN, n: times.length, ms: 0 };
  const ms = times[times.length - 1]! - times[0]!;
  return { ips: ((times.length - 1) * 1000) / ms, n: times.length, ms };
}

/** Several rates as one: all their intervals over all their time. */
const pooled = (rs: Rate[]): Rate => {
  const intervals = rs.reduce((a, r) => a + Math.max(0, r.n - 1), 0);
  const ms = rs.reduce((a, r) => a + r.ms, 0);
  return { ips: (intervals * 1000) / ms, n: intervals + rs.length, ms };
};

/** Runs `act` once the node has computed `more` frames beyond what it had computed when called. */
async function afterComputed(node: LocalNode, more: number, act: () => void): Promise<void> {
  const base = (await askStats(node, farm.maxMessageBytes)).computed;
  await waitFor(`${node.name} to compute ${more} more frames`, async () => (await askStats(node, farm.maxMessageBytes)).computed >= base + more, 60_000);
  act();
}

const block1 = (replica: number) => farm.nodes.find((n) => n.config.role === 'block1' && n.config.replica === replica)!;
const through = (r: SenderReport, replica: number, after = -Infinity) => r.timeline!.filter((x) => x.doneAt > after && x.trace.some((h) => h.role === 'block1' && h.replica === replica)).length;

interface Phase {
  report: SenderReport;
  /** completed frames per CPU-second of the pipeline's processes */
  perCpuS: number;
  cpuMs: number;
}

/** A whole run with the CPU time of every live process of the pipeline around it. */
async function phase(frames: number, live: LocalNode[], only0 = false): Promise<Phase> {
  const cpu = async () => (await Promise.all(live.map((n) => askStats(n, farm.maxMessageBytes)))).reduce((a, x) => a + x.cpuMs, 0) + (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  const c0 = await cpu();
  const report = await stream(frames, only0);
  const cpuMs = (await cpu()) - c0;
  return { report, cpuMs, perCpuS: (report.completed * 1000) / cpuMs };
}

const pooledPerCpu = (ps: Phase[]) => (ps.reduce((a, p) => a + p.report.completed, 0) * 1000) / ps.reduce((a, p) => a + p.cpuMs, 0);
const pooledIps = (ps: Phase[]) => pooled(ps.map((p) => rate(p.report))).ips;

test('alexnet-6: a block1 replica killed mid-run, then restarted mid-run: failover and return', async () => {
  const all = () => [...farm.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null), ...(restarted?.nodes ?? [])];
  // 1. both replicas, in alternation with replica 0 alone
  const twoRefs: Phase[] = [];
  const oneRefs: Phase[] = [];
  for (let k = 0; k < 2; k++) {
    twoRefs.push(await phase(80, all()));
    oneRefs.push(await phase(80, all(), true));
  }
  for (const p of twoRefs) assert.ok(through(p.report, 0) > 10 && through(p.report, 1) > 10, 'both replicas take frames');

  // 2. replica 1 takes half the frames: SIGKILLed after 40 of its own, a third of the way in
  let killedAt = 0;
  const frames = 240;
  const killing = afterComputed(block1(1), 40, () => {
    killedAt = nowMs();
    block1(1).child.kill('SIGKILL');
  });
  const killed = await stream(frames);
  await killing;
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

  // 3. afterwards, with replica 1 dead, in alternation with replica 0 alone
  const dead: Phase[] = [];
  for (let k = 0; k < 3; k++) {
    const p = await phase(80, all());
    assert.equal(p.report.completed, 80);
    assert.equal(through(p.report, 1), 0, 'the dead replica stays out of a new run');
    dead.push(p);
    oneRefs.push(await phase(80, all(), true));
  }

  // 4. restart replica 1 during a run; it must be used again, then in alternation with both
  let backAt = 0;
  const restarting = afterComputed(block1(0), 60, () => {
    void startNodeProcesses([block1(1).config], { maxMessageBytes: farm.maxMessageBytes }).then((p) => {
      restarted = p;
      backAt = nowMs();
    });
  });
  const again = await stream(300);
  await restarting;
  await waitFor('the restarted replica', () => backAt > 0, 30_000);
  assert.equal(again.completed, 300);
  assert.equal(again.dropped, 0);
  const used = through(again, 1, backAt + 1000);
  assert.ok(used > 20, `only ${used} frames through the restarted replica`);
  const back: Phase[] = [];
  for (let k = 0; k < 2; k++) {
    back.push(await phase(80, all()));
    twoRefs.push(await phase(80, all()));
  }
  for (const p of back) assert.ok(through(p.report, 1) > 10, 'new runs use the restarted replica');

  const deadVsOne = pooledPerCpu(dead) / pooledPerCpu(oneRefs);
  const backVsTwo = pooledPerCpu(back) / pooledPerCpu(twoRefs);
  console.log(
    `failover: IPS two replicas ${pooledIps(twoRefs).toFixed(1)}, replica 0 alone ${pooledIps(oneRefs).toFixed(1)}, after the kill ${afterKill.ips.toFixed(1)} then ${pooledIps(dead).toFixed(1)}, after the restart ${pooledIps(back).toFixed(1)}; ` +
      `frames per CPU-second: two ${pooledPerCpu(twoRefs).toFixed(1)}, one ${pooledPerCpu(oneRefs).toFixed(1)}, failed over ${pooledPerCpu(dead).toFixed(1)} (ratio ${deadVsOne.toFixed(2)}), restarted ${pooledPerCpu(back).toFixed(1)} (ratio ${backVsTwo.toFixed(2)}); ` +
      `lost ${killed.dropped}, re-sent ${killed.failover.resent}, duplicates ${killed.duplicates}, ${used} frames through the restarted replica in its run`,
  );
  assert.ok(Math.abs(deadVsOne - 1) <= 0.15, `after the kill ${pooledPerCpu(dead).toFixed(1)} frames per CPU-second vs one replica ${pooledPerCpu(oneRefs).toFixed(1)}`);
  assert.ok(Math.abs(backVsTwo - 1) <= 0.15, `after the restart ${pooledPerCpu(back).toFixed(1)} frames per CPU-second vs two replicas ${pooledPerCpu(twoRefs).toFixed(1)}`);
});
