// `npm run bench -- elastic [--model vgg16|alexnet] [--devices N] [--lose-at S] [--back-at S]
// [--duration S] [--emulate pi3] [--loss-ms MS] [--echo]`: the live musical chair on emulated Pis (local processes, each
// in a CPU-quota cgroup at its stage's share of the profile's Pi, set once loaded; loopback
// network). The planner's topology for N devices streams; at --lose-at the device running the
// first stage's first replica loses its power (SIGKILL), at --back-at it is back. The controller is
// told nothing. Prints the IPS over time, each move, and per event the time from it until the IPS
// over two windows in a row is at least 90% of the new plan's prediction.
import { parseArgs } from 'node:util';
import { ElasticController } from '../src/elastic/controller.js';
import { planFor } from '../src/elastic/decide.js';
import { DEFAULT_SEED } from '../src/model/weights.js';
import { Sender } from '../src/runtime/sender.js';
import { loadModelSpec } from '../src/model/spec.js';
import { stagesText } from '../src/topology/choose.js';
import { LocalElasticDriver } from '../src/lab/elastic-local.js';
import { freePorts } from '../src/lab/local-ports.js';
import { stageQuotas, deviceOf } from '../src/lab/bench-quota.js';
import { benchTimeouts, defaultWindow, predictFor } from '../src/lab/bench-core.js';
import { measureMachine } from '../src/lab/emulate/calibrate.js';
import { findProfile } from '../src/lab/emulate/profiles.js';
import { detectCgroups } from '../src/lab/emulate/cgroup.js';
import type { StageSpec } from '../src/model/spec.js';

interface Sample {
  t: number;
  done: number;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string' }, devices: { type: 'string' }, 'lose-at': { type: 'string' }, 'back-at': { type: 'string' }, duration: { type: 'string' }, emulate: { type: 'string' }, 'loss-ms': { type: 'string' }, echo: { type: 'boolean' } } });
  const model = values.model ?? 'vgg16';
  const devices = Number(values.devices ?? 11);
  const loseAt = Number(values['lose-at'] ?? (model === 'vgg16' ? 70 : 15));
  const backAt = Number(values['back-at'] ?? (model === 'vgg16' ? 140 : 40));
  const duration = Number(values.duration ?? (model === 'vgg16' ? 210 : 65));
  const profile = findProfile(values.emulate ?? 'pi3');
  detectCgroups(); // no cgroup cpu controller: fail before anything starts
  const log = (m: string) => console.error(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);
  let t0 = Date.now();
  const spec = loadModelSpec(model);
  const first = planFor(model, devices - 1, deviceOf(profile));
  console.log(`elastic bench: ${model}, ${devices} devices (${devices - 1} emulated ${profile.name} nodes + the sender, local processes; times are this machine's under CPU quotas), lose at ${loseAt} s, back at ${backAt} s, ${duration} s`);
  console.log(`topology: ${stagesText(first.stages)}, predicted ${first.predictedIps.toFixed(3)} IPS`);
  console.log('each process\'s CPU quota is set from its stage\'s layers timed alone here, then from its own measured CPU per frame after its first frames');
  log('measuring this machine\'s speed (conv3_1, fc2) for the quotas');
  const machine = (await measureMachine()).speeds;
  const [senderPort] = await freePorts(1);
  const cpuQuotas = (stages: StageSpec[], cpu?: (number | undefined)[]) => stageQuotas(model, stages, profile, machine, cpu);
  // a stage takes seconds a frame here: the nodes' probes of their next stage wait behind frames
  const timeouts = benchTimeouts(predictFor(model, first.stages, profile), defaultWindow(first.stages));
  const driver = new LocalElasticDriver({ model, engine: 'onnx', threads: 1, seed: DEFAULT_SEED, senderPort: senderPort!, devices: devices - 1, echo: values.echo ?? false, cpuQuotas, log, failTimeoutMs: timeouts.failTimeoutMs });
  // A process held to a fraction of one core (VGG16's dense stages: about 1% at first) gets it as
  // a slice per CFS period shared by its compute thread and its event loop, and answers a probe
  // late (a Pi has four cores for them): at 3 s and 10 s, VGG16's fc processes were called lost
  // while running. A killed process refuses its probes at once (REFUSALS in the controller), so
  // only a silent host waits for --loss-ms (default 30 s here, the controller's is 2 s).
  const lossMs = Number(values['loss-ms'] ?? 30_000);
  console.log(`a node is lost when it refuses 3 probes in a row, or after ${lossMs / 1000} s without an answer (an emulation artefact: see bench/elastic.ts)`);
  // a planned move lets the old topology's frames finish there: a window of them at the predicted rate, and half again
  const drainMs = Math.max(10_000, (1500 * defaultWindow(first.stages)) / first.predictedIps);
  const ctl = new ElasticController({ model, profile: deviceOf(profile), driver, log, lossMs, drainMs });
  t0 = Date.now();
  log(`starting ${first.stages.reduce((a, s) => a + s.replicas * s.shards, 0)} node processes`);
  await ctl.start(first.stages);
  const window = defaultWindow(first.stages);
  const sender = new Sender({ input: spec.input, first: ctl.deployment.first, listen: { host: '127.0.0.1', port: senderPort! }, frames: 1_000_000, warmup: 0, window, keepInputs: true, sampleIds: [], frameTimeoutMs: 3 * timeouts.frameTimeoutMs, failTimeoutMs: Math.max(lossMs, timeouts.failTimeoutMs), log });
  const samples: Sample[] = [];
  const events: { t: number; what: string }[] = [];
  t0 = Date.now();
  const running = sender.run();
  ctl.attach(sender);
  const sampler = setInterval(() => samples.push({ t: (Date.now() - t0) / 1000, done: sender.completedFrames }), 250);
  let lost: string | undefined;
  const timers = [
    setTimeout(() => {
      lost = driver.deviceOf(first.stages[0]!.role);
      if (!lost) return;
      events.push({ t: (Date.now() - t0) / 1000, what: `${lost} lost` });
      log(`${lost} (running ${first.stages[0]!.role}) loses its power`);
      driver.lose(lost);
    }, loseAt * 1000),
    setTimeout(() => {
      if (!lost) return;
      events.push({ t: (Date.now() - t0) / 1000, what: `${lost} back` });
      log(`${lost} is back`);
      driver.back(lost);
    }, backAt * 1000),
    setTimeout(() => {
      log('end of the stream: the frames in flight come back');
      sender.endStream();
    }, duration * 1000),
  ];
  let report;
  try {
    report = await running;
  } finally {
    clearInterval(sampler);
    for (const t of timers) clearTimeout(t);
    await ctl.stop();
  }
  print(samples, events, ctl.moves, first.predictedIps, model, duration);
  console.log(`frames: sent ${report.sent}, completed ${report.completed}, dropped ${report.dropped}, duplicates discarded ${report.duplicates}, re-sent after a move ${report.moves?.resent ?? 0}`);
}

/** IPS over `w` seconds from t, from the samples. */
function rate(samples: Sample[], t: number, w: number): number | undefined {
  const a = samples.find((s) => s.t >= t);
  const b = [...samples].reverse().find((s) => s.t <= t + w);
  return a && b && b.t - a.t >= w * 0.9 ? (b.done - a.done) / (b.t - a.t) : undefined;
}

function print(samples: Sample[], events: { t: number; what: string }[], moves: ElasticController['moves'], firstPredicted: number, model: string, duration: number): void {
  // a window that holds about 10 frames at the predicted rate: shorter ones are mostly rounding
  const w = Math.max(5, Math.ceil(10 / firstPredicted));
  console.log(`\nIPS over time (${w} s windows, emulated ${model} farm):`);
  const end = samples[samples.length - 1]?.t ?? 0;
  for (let t = 0; t + w <= end + 0.01; t += w) {
    const r = rate(samples, t, w);
    const mark = [...events.filter((e) => e.t >= t && e.t < t + w).map((e) => e.what), ...moves.filter((m) => m.atMs / 1000 >= t && m.atMs / 1000 < t + w).map((m) => `move: ${m.why}`)].join('; ');
    console.log(`  ${String(t).padStart(4)}-${String(t + w).padEnd(4)} s  ${r === undefined ? '   -  ' : r.toFixed(3).padStart(6)}  ${mark}`);
  }
  console.log('\nmoves:');
  for (const m of moves) console.log(`  at ${(m.atMs / 1000).toFixed(1)} s: ${m.why}: ${m.from} => ${m.to}; predicted ${m.predictedBefore.toFixed(3)} -> ${m.predictedAfter.toFixed(3)} IPS; new processes ready in ${(m.startMs / 1000).toFixed(1)} s, old drained in ${(m.drainMs / 1000).toFixed(1)} s, ${m.resent} re-sent`);
  console.log(`\nrecovery: from the event until the IPS over two ${w} s windows in a row is at least 90% of the new plan's prediction; the lowest ${w} s window from the event to the end of the drain:`);
  for (const e of events) {
    const k = moves.findIndex((m) => m.atMs / 1000 >= e.t);
    const move = moves[k];
    if (!move) {
      console.log(`  ${e.what} at ${e.t.toFixed(1)} s: no move followed`);
      continue;
    }
    const target = move.predictedAfter;
    // until the next event, or the end of the stream (the frames in flight come back in a burst)
    const until = Math.min(duration, events.find((x) => x.t > e.t)?.t ?? Infinity) - 2 * w;
    const ok = (t: number) => (rate(samples, t, w) ?? 0) >= 0.9 * target && (rate(samples, t + w, w) ?? 0) >= 0.9 * target;
    const at = samples.find((s) => s.t >= e.t && s.t <= until && ok(s.t))?.t;
    const drained = (move.atMs + move.startMs + move.drainMs) / 1000;
    const dips = samples.filter((s) => s.t >= e.t && s.t + w <= Math.max(drained, e.t + w)).map((s) => rate(samples, s.t, w)).filter((r): r is number => r !== undefined);
    const dip = dips.length ? ` (lowest ${Math.min(...dips).toFixed(3)} IPS)` : '';
    console.log(`  ${e.what} at ${e.t.toFixed(1)} s, move at ${(move.atMs / 1000).toFixed(1)} s, new topology from ${((move.atMs + move.startMs) / 1000).toFixed(1)} s, old drained at ${drained.toFixed(1)} s: ${at === undefined ? `not at 90% of ${target.toFixed(3)} IPS before ${(until + 2 * w).toFixed(0)} s` : `at 90% of ${target.toFixed(3)} IPS from ${at.toFixed(1)} s, ${(at - e.t).toFixed(1)} s after the event`}${dip}`);
  }
}
