// `pifarm bench farm`, quick mode: a preset, a topology file or a plan run as local node processes,
// each one an emulated Pi in its own CPU-quota (and memory) cgroup, frames streamed through by the
// sender, the measured IPS set against the planner's prediction for the same Pis, and the report
// written. Each stage's quota comes from its CPU time per frame here, measured in a calibration run
// before any quota, against the cost model's time on the Pi (emulate/quota.ts).
import { cpus } from 'node:os';
import { processCount, loadModelSpec, type StageSpec } from '../model/spec.js';
import { DEFAULT_SEED } from '../model/weights.js';
import { defaultSampleIds, runSender } from '../runtime/sender.js';
import { OS_RESERVED_MB } from '../topology/cost-model.js';
import type { NodeConfig } from '../runtime/config.js';
import type { NodeStats } from '../runtime/protocol.js';
import { createLimitGroup, detectCgroups, execInGroup, removeStaleGroups, type LimitGroup } from './emulate/cgroup.js';
import { measureMachine } from './emulate/calibrate.js';
import type { PiProfile } from './emulate/profiles.js';
import { periodUsFor, quotaFits, type Speeds } from './emulate/quota.js';
import { writeRunReport } from '../report/write.js';
import type { RunResult } from '../report/types.js';
import { newRunId } from '../report/run-result.js';
import { benchResult, benchTimeouts, defaultWindow, predictFor } from './bench-core.js';
import { launchLocalFarm, type LocalFarm } from './local-launch.js';
import { calibrateStageQuotas } from './bench-quota.js';

export interface BenchFarmOptions {
  model: string;
  /** preset name, "plan-N", or the topology file */
  name: string;
  stages: StageSpec[];
  /** emulate every node process as this Pi; absent: processes run at this machine's speed */
  profile?: PiProfile;
  frames: number;
  warmup: number;
  window?: number;
  engine?: 'onnx' | 'tfjs';
  reportsDir: string;
  comparePaper?: boolean;
  runId?: string;
  log?: (m: string) => void;
}

export interface Emulated {
  /** this machine, one core, CPU time: conv and dense speeds */
  machine: Speeds;
  /** per stage (in order): fraction of one core each of its processes gets */
  quotaCores: number[];
  memoryMb: number;
  /** periods in which the kernel throttled each process (proof the quota acted) */
  throttled: number[];
}

export interface BenchFarmOutput {
  result: RunResult;
  jsonPath: string;
  htmlPath: string;
  emulated?: Emulated;
  warnings: string[];
}

async function removeGroups(groups: LimitGroup[], warnings: string[]): Promise<void> {
  for (const g of groups) await g.remove().catch((e: Error) => warnings.push(e.message));
}

/** Where frames were lost: each node's drop counters and what it logged about them. */
function lostFrameClues(farm: LocalFarm, stats: NodeStats[]): string[] {
  const counters = stats
    .filter((x) => x.queueDropped + x.mergeDropped + x.sendFailed + x.refused > 0)
    .map((x) => `${x.role}.${x.replica}.s${x.shard}: refused ${x.refused}, queue-dropped ${x.queueDropped}, merge-dropped ${x.mergeDropped}, send-failed ${x.sendFailed}`);
  const lines = farm.nodes.flatMap((n) => n.output.filter((l) => /drop|down|fail|timed out|closed|refus/i.test(l)).slice(-5));
  return ['frames were lost; node counters:', ...counters, ...lines];
}

/** The calibration of a local farm: the sender in this process, each node's counters by its port. */
async function measureQuotas(o: BenchFarmOptions, farm: LocalFarm, machine: Speeds, log: (m: string) => void): Promise<number[]> {
  const input = loadModelSpec(o.model).input;
  const cal = await calibrateStageQuotas({
    model: o.model,
    stages: o.stages,
    profile: o.profile!,
    machine,
    stats: () => farm.stats(),
    stream: (frames, window, idBase) =>
      runSender({
        input,
        first: farm.first,
        lastShards: farm.lastShards,
        listen: { host: '127.0.0.1', port: farm.senderPort },
        frames,
        warmup: 0,
        window,
        idBase,
        seed: 2,
        sampleIds: [],
        maxMessageBytes: farm.maxMessageBytes,
        frameTimeoutMs: 120_000,
        log: () => undefined,
      }),
    log,
  });
  return cal.quotas;
}

export async function runBenchFarm(o: BenchFarmOptions): Promise<BenchFarmOutput> {
  const log = o.log ?? ((m: string) => console.error(m));
  const spec = loadModelSpec(o.model);
  const runId = o.runId ?? newRunId(`bench-${o.name}`);
  const startedAt = new Date().toISOString();
  const processes = processCount(o.stages);
  const warnings: string[] = [];
  const engine = o.engine ?? 'onnx';

  const prediction = o.profile ? predictFor(o.model, o.stages, o.profile) : undefined;
  let emulated: Emulated | undefined;
  if (o.profile) {
    const layout = detectCgroups(); // fail before anything starts when there is no cgroup cpu controller
    const stale = removeStaleGroups(layout);
    if (stale) log(`removed ${stale} empty cgroup(s) left by interrupted runs`);
    log(`measuring this machine's per-core speed (vgg16 conv3_1 and fc2, one thread, CPU time)`);
    const m = await measureMachine();
    emulated = { machine: m.speeds, quotaCores: [], memoryMb: o.profile.memoryMb - OS_RESERVED_MB, throttled: [] };
    log(`this machine: ${m.speeds.gflops.toFixed(1)} GFLOPS per core on convs, ${m.speeds.denseGflops.toFixed(2)} on dense layers; ${o.profile.name}: ${o.profile.gflops.toFixed(2)} / ${o.profile.denseGflops.toFixed(3)}`);
  }

  log(`starting ${processes} node processes of ${o.name}`);
  // Each node process starts inside its own group, so its block loads under the memory limit (a
  // stage that does not fit a Pi fails here as it would there). The CPU quota goes on once all
  // are loaded: load time is not measured, and at a Pi's speed it would only make the run long.
  const groups: LimitGroup[] = [];
  const groupStage: number[] = [];
  const command = emulated
    ? (cfg: NodeConfig, argv: string[]) => {
        groupStage.push(o.stages.findIndex((st) => st.role === cfg.role));
        const g = createLimitGroup(`${runId}-${groups.length}`, { memoryMb: emulated!.memoryMb });
        groups.push(g);
        return execInGroup(g, argv);
      }
    : undefined;
  let farm;
  try {
    farm = await launchLocalFarm({ model: o.model, stages: o.stages, engine, threads: 1, seed: DEFAULT_SEED, ...(command ? { command } : {}) });
  } catch (e) {
    const oom = groups.filter((g) => g.oomKills() > 0).length;
    await removeGroups(groups, warnings);
    if (oom) throw new Error(`${(e as Error).message}\n${oom} node process(es) were killed for exceeding the emulated ${o.profile!.name}'s ${emulated!.memoryMb} MB (RAM less the OS): the stage does not fit this Pi`);
    throw e;
  }
  let sent;
  let stats;
  let loaded;
  try {
    const window = o.window ?? defaultWindow(o.stages);
    if (emulated) {
      emulated.quotaCores = await measureQuotas(o, farm, emulated.machine, log);
      const total = groupStage.reduce((a, st) => a + emulated!.quotaCores[st]!, 0);
      const fit = quotaFits(total / processes, processes, cpus().length);
      if (!fit.ok) warnings.push(fit.message);
      log(`quota per process: ${o.stages.map((st, i) => `${st.role} ${(emulated!.quotaCores[i]! * 100).toFixed(2)}%`).join(', ')} of a core; total ${total.toFixed(2)} cores of ${cpus().length}`);
      groups.forEach((g, i) => {
        const q = emulated!.quotaCores[groupStage[i]!]!;
        g.setCpuLimit(q, periodUsFor(q));
      });
    }
    loaded = await farm.stats();
    log(`streaming ${o.frames} frames (${o.warmup} warm-up), ${window} in flight`);
    sent = await runSender({
      input: spec.input,
      first: farm.first,
      lastShards: farm.lastShards,
      listen: { host: '127.0.0.1', port: farm.senderPort },
      frames: o.frames,
      warmup: o.warmup,
      window,
      seed: 1,
      sampleIds: defaultSampleIds(o.frames, 1),
      maxMessageBytes: farm.maxMessageBytes,
      // local processes share this machine: a frame is given long, the replicas the model's time
      frameTimeoutMs: 600_000,
      ...(prediction ? { failTimeoutMs: benchTimeouts(prediction, window).failTimeoutMs } : {}),
      keepTimeline: true,
      log,
    });
    stats = await farm.stats();
    if (sent.dropped > 0) warnings.push(...lostFrameClues(farm, stats));
    if (emulated) emulated.throttled = groups.map((g) => g.cpuThrottling().throttled);
  } finally {
    await farm.stop();
    await removeGroups(groups, warnings);
  }

  const result = benchResult({
    runId,
    startedAt,
    model: o.model,
    topology: o.name,
    engine,
    stages: o.stages,
    sent,
    nodes: { before: loaded, after: stats },
    ...(prediction ? { prediction } : {}),
    ...(o.profile ? { emulation: { profile: o.profile, network: { bandwidthMbit: 0, latencyMs: 0, lossPct: 0, emulated: false }, quotaCores: emulated!.quotaCores } } : {}),
  });
  const { jsonPath, htmlPath } = writeRunReport(result, o.reportsDir, { comparePaper: o.comparePaper ?? false, senderHost: 'sender' });
  return { result, jsonPath, htmlPath, ...(emulated ? { emulated } : {}), warnings };
}
