// One farm benchmark, whatever runs the nodes: the driver starts them (local processes in limit
// groups, virtual Pis over SSH, ARM virtual Pis), reads their counters, sets their CPU quotas and
// tears them down; this file does the rest the same way for all: the prediction, this machine's
// speed, the calibration before any quota, the measured run with timeouts at a Pi's speed, the
// result and its report. Each step is announced and timed.
import { loadModelSpec, type StageSpec } from '../model/spec.js';
import type { ImportedModel } from '../model/imported.js';
import { importedBytesPerFrame } from '../topology/imported-cost.js';
import type { Endpoint, NextStage } from '../runtime/config.js';
import type { NodeStats } from '../runtime/protocol.js';
import { processName } from '../runtime/process-name.js';
import { defaultSampleIds, runSender, type SenderReport } from '../runtime/sender.js';
import type { Evaluation } from '../topology/cost-model.js';
import type { Emulation } from '../report/run-result.js';
import type { RunResult } from '../report/types.js';
import { writeRunReport } from '../report/write.js';
import { benchResult, benchTimeouts, defaultWindow } from './bench-core.js';
import { calibrateStageQuotas } from './bench-quota.js';
import { measureMachine } from './emulate/calibrate.js';
import type { PiProfile } from './emulate/profiles.js';
import type { Speeds } from './emulate/quota.js';
import { Phases } from './phases.js';

/** Where the sender streams to and listens on. */
export interface SenderPorts {
  first: NextStage;
  lastShards: number;
  listen: Endpoint;
  maxMessageBytes: number;
  secret?: Buffer;
}

export interface CpuLimits {
  /** per stage: the cores each of its processes got (quota plus any headroom) */
  perStage: number[];
  /** whether this machine has the cores for them all, in words */
  fit: { ok: boolean; message: string };
}

export interface BenchDriver {
  /** starts every node under the emulated Pi's memory and waits until each has loaded its block */
  start(phases: Phases): Promise<SenderPorts>;
  /** every node process's counters */
  stats(): Promise<NodeStats[]>;
  /** holds each node process to its stage's quota (fraction of one core) */
  limitCpu(quotaPerStage: number[]): CpuLimits;
  /** after the calibration, before the measured run: the shared medium, where there is one */
  beforeRun?(phases: Phases): Promise<void>;
  /** the network the measured run had */
  network(): Emulation['network'];
  /** the CFS periods each limit group was throttled in (proof the quota acted), in the driver's group order */
  throttled(): number[];
  /** what the nodes logged about frames that were lost (their counters are read by the core) */
  lossClues(after: NodeStats[]): Promise<string[]>;
  /** where each node process ran, by processName(); absent: named after its place */
  hostNames?(): Record<string, string>;
  /** stops everything it started; returns what it could not clean up */
  teardown(): Promise<string[]>;
}

export interface BenchRunOptions {
  runId: string;
  model: string;
  /** preset name, "plan-N", or the topology file */
  name: string;
  stages: StageSpec[];
  /** the package, when `model` names an imported model */
  imported?: ImportedModel;
  engine: string;
  /** every node process an emulated Pi; absent: processes at this machine's speed (no prediction, no quota) */
  profile?: PiProfile;
  prediction?: Evaluation;
  frames: number;
  warmup: number;
  window?: number;
  /** a frame is given at least this long (default 60 s) */
  minFrameTimeoutMs?: number;
  reportsDir: string;
  comparePaper: boolean;
  log: (m: string) => void;
}

export interface BenchRunOutput {
  result: RunResult;
  jsonPath: string;
  htmlPath: string;
  /** with a profile: this machine's speeds and the quotas given */
  emulated?: { machine: Speeds; quotaCores: number[]; throttled: number[] };
  warnings: string[];
  phases: [string, number][];
  totalMs: number;
}

export async function runBench(o: BenchRunOptions, d: BenchDriver): Promise<BenchRunOutput> {
  const startedAt = new Date().toISOString();
  const phases = new Phases(o.log);
  const warnings: string[] = [];
  const window = o.window ?? defaultWindow(o.stages);
  const timeouts = o.prediction ? benchTimeouts(o.prediction, window) : { failTimeoutMs: undefined, frameTimeoutMs: 60_000 };
  const frameTimeoutMs = Math.max(timeouts.frameTimeoutMs, o.minFrameTimeoutMs ?? 0);
  let output: BenchRunOutput | undefined;
  try {
    const machine = o.profile ? await phases.run("this machine's speed per core (vgg16 conv3_1 and fc2, one thread, CPU time)", () => measureMachine()) : undefined;
    if (machine && o.profile) o.log(`this machine: ${machine.speeds.gflops.toFixed(1)} GFLOPS per core on convs, ${machine.speeds.denseGflops.toFixed(2)} on dense layers; ${o.profile.name}: ${o.profile.gflops.toFixed(2)} / ${o.profile.denseGflops.toFixed(3)}`);
    const ports = await d.start(phases);
    const input = o.imported ? o.imported.input.shape : loadModelSpec(o.model).input;
    const stream = (frames: number, warmup: number, w: number, idBase: number, extra: { seed: number; sampleIds: number[]; keepTimeline?: boolean; log: (m: string) => void }): Promise<SenderReport> =>
      runSender({ input, ...ports, frames, warmup, window: w, idBase, frameTimeoutMs, ...(timeouts.failTimeoutMs !== undefined ? { failTimeoutMs: timeouts.failTimeoutMs } : {}), ...extra });
    let limits: CpuLimits | undefined;
    if (machine && o.profile) {
      const profile = o.profile;
      const cal = await phases.run('warm-up, calibration (no quota)', () =>
        // other wire ids than the measured run's, and other frames (seed 2)
        calibrateStageQuotas({ model: o.imported ?? o.model, stages: o.stages, profile, machine: machine.speeds, stats: () => d.stats(), stream: (n, w, idBase) => stream(n, 0, w, idBase, { seed: 2, sampleIds: [], log: () => undefined }), log: o.log }),
      );
      limits = d.limitCpu(cal.quotas);
      if (!limits.fit.ok) warnings.push(limits.fit.message);
      o.log(`CPU quota per process: ${o.stages.map((st, i) => `${st.role} ${(cal.quotas[i]! * 100).toFixed(2)}%`).join(', ')} of a core; ${limits.fit.message}`);
    }
    await d.beforeRun?.(phases);
    if (o.prediction && timeouts.failTimeoutMs !== undefined) o.log(`a first-stage replica is called down after ${(timeouts.failTimeoutMs / 1000).toFixed(1)} s without an answer; a frame is lost after ${(frameTimeoutMs / 1000).toFixed(0)} s`);
    const before = await d.stats();
    const sent = await phases.run(`stream ${o.frames} frames (${o.warmup} warm-up, ${window} in flight)`, () =>
      stream(o.frames, o.warmup, window, Date.now() * 1000, { seed: 1, sampleIds: defaultSampleIds(o.frames, 1), keepTimeline: true, log: o.log }),
    );
    const after = await d.stats();
    if (sent.dropped > 0) warnings.push(...dropCounters(sent.dropped, after, o.stages), ...(await d.lossClues(after)));
    const result = benchResult({
      runId: o.runId,
      startedAt,
      model: o.model,
      topology: o.name,
      engine: o.engine,
      stages: o.stages,
      sent,
      nodes: { before, after },
      ...(o.prediction ? { prediction: o.prediction } : {}),
      ...(o.profile ? { emulation: { profile: o.profile, network: d.network(), ...(limits ? { quotaCores: limits.perStage } : {}) } } : {}),
      ...(d.hostNames ? { hostNames: d.hostNames() } : {}),
      ...(o.imported ? { bytesPerFrame: o.prediction?.networkBytesPerFrame ?? importedBytesPerFrame(o.imported, o.stages) } : {}),
    });
    const { jsonPath, htmlPath } = writeRunReport(result, o.reportsDir, { comparePaper: o.comparePaper, senderHost: 'sender' });
    output = { result, jsonPath, htmlPath, warnings, phases: [], totalMs: 0, ...(machine && limits ? { emulated: { machine: machine.speeds, quotaCores: limits.perStage, throttled: d.throttled() } } : {}) };
  } finally {
    const problems = await phases.run('tear down', () => d.teardown());
    warnings.push(...problems.map((p) => `tear-down: ${p}`));
  }
  return { ...output!, phases: phases.times, totalMs: phases.totalMs() };
}

/** Where the frames went: each node's own counters (a frame lost in the farm is counted where it was dropped). */
export function dropCounters(dropped: number, stats: NodeStats[], stages: StageSpec[]): string[] {
  const shards = (role: string) => stages.find((s) => s.role === role)?.shards ?? 1;
  return [
    `dropped ${dropped} frame(s); per node received/computed, refused, queue full, missing shard, not sent:`,
    ...stats.map((s) => `  ${s.host ? `${s.host} ` : ''}${processName(s, shards(s.role))}: ${s.received}/${s.computed}, ${s.refused}, ${s.queueDropped}, ${s.mergeDropped}, ${s.sendFailed}`),
  ];
}
