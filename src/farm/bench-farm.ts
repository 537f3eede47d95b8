// `pifarm bench farm`, quick mode: a preset, a topology file or a plan run as local node processes,
// each one an emulated Pi in its own CPU-quota (and memory) cgroup, frames streamed through by the
// sender, the measured IPS set against the planner's prediction for the same Pis, and the report
// written. The quota comes from this machine's measured per-core speed (emulate/calibrate.ts).
import { cpus } from 'node:os';
import { loadModelSpec, type StageSpec } from '../model/spec.js';
import { stageInfos, type StageInfo } from '../model/shapes.js';
import { DEFAULT_SEED } from '../model/weights.js';
import { defaultSampleIds, runSender } from '../runtime/sender.js';
import { evaluateTopology, networkBytes, OS_RESERVED_MB, type CostModel, type Evaluation } from '../topology/cost-model.js';
import type { NodeConfig } from '../runtime/config.js';
import { createLimitGroup, detectCgroups, execInGroup, removeStaleGroups, type LimitGroup } from '../emulate/cgroup.js';
import { measureMachine } from '../emulate/calibrate.js';
import type { PiProfile } from '../emulate/profiles.js';
import { periodUsFor, quotaFits, stageQuotaCores, type Speeds } from '../emulate/quota.js';
import { writeRunReport } from '../report/write.js';
import type { RunResult } from '../report/types.js';
import { benchRunResult, newRunId } from './bench-result.js';
import { launchLocalFarm } from './local-launch.js';

export { newRunId };

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

/** Conv and dense work of one process of a stage (a shard does 1/shards of its dense layer). */
function stageWork(info: StageInfo): { flop: number; dense: boolean }[] {
  return info.layers.map((l) => ({ flop: (2 * l.macs) / info.stage.shards, dense: l.layer.type === 'dense' }));
}

/** Per stage (in order): the fraction of one core each of its processes gets to run as `profile`. */
export function stageQuotas(model: string, stages: StageSpec[], profile: PiProfile, machine: Speeds): number[] {
  return stageInfos(loadModelSpec(model), stages).map((info) => stageQuotaCores(stageWork(info), profile, machine));
}

/** The planner's prediction for these stages on the emulated Pi (default: no shared medium, as in quick mode). */
export function predictFor(model: string, stages: StageSpec[], profile: PiProfile, network: CostModel = { bandwidthMbit: 300, sharedMedium: false }): Evaluation {
  return evaluateTopology(model, stages, network, { name: profile.name, gflops: profile.gflops, ramMb: profile.memoryMb });
}

export async function runBenchFarm(o: BenchFarmOptions): Promise<BenchFarmOutput> {
  const log = o.log ?? ((m: string) => console.error(m));
  const spec = loadModelSpec(o.model);
  const runId = o.runId ?? newRunId(`bench-${o.name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  const startedAt = new Date().toISOString();
  const processes = o.stages.reduce((a, s) => a + s.replicas * s.shards, 0);
  const warnings: string[] = [];
  const engine = o.engine ?? 'onnx';

  let emulated: Emulated | undefined;
  if (o.profile) {
    const layout = detectCgroups(); // fail before anything starts when there is no cgroup cpu controller
    const stale = removeStaleGroups(layout);
    if (stale) log(`removed ${stale} empty cgroup(s) left by interrupted runs`);
    log(`measuring this machine's per-core speed (vgg16 conv3_1 and fc2, one thread, CPU time)`);
    const m = await measureMachine();
    const quotas = stageQuotas(o.model, o.stages, o.profile, m.speeds);
    const total = o.stages.reduce((a, st, i) => a + quotas[i]! * st.replicas * st.shards, 0);
    const fit = quotaFits(total / processes, processes, cpus().length);
    if (!fit.ok) warnings.push(fit.message);
    emulated = { machine: m.speeds, quotaCores: quotas, memoryMb: o.profile.memoryMb - OS_RESERVED_MB, throttled: [] };
    log(`this machine: ${m.speeds.gflops.toFixed(1)} GFLOPS per core on convs, ${m.speeds.denseGflops.toFixed(2)} on dense layers; ${o.profile.name}: ${o.profile.gflops.toFixed(2)} / ${o.profile.denseGflops.toFixed(3)}`);
    log(`quota per process: ${o.stages.map((st, i) => `${st.role} ${(quotas[i]! * 100).toFixed(2)}%`).join(', ')} of a core; total ${total.toFixed(2)} cores of ${cpus().length}`);
  }

  log(`starting ${processes} node processes of ${o.name}`);
  // Each node process starts inside its own group, so its block loads under the memory limit (a
  // stage that does not fit a Pi fails here as it would there). The CPU quota goes on once all
  // are loaded: load time is not measured, and at a Pi's speed it would only make the run long.
  const groups: LimitGroup[] = [];
  const quotas: number[] = [];
  const command = emulated
    ? (cfg: NodeConfig, argv: string[]) => {
        quotas.push(emulated!.quotaCores[o.stages.findIndex((st) => st.role === cfg.role)]!);
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
  try {
    groups.forEach((g, i) => g.setCpuLimit(quotas[i]!, periodUsFor(quotas[i]!)));
    const window = o.window ?? Math.min(32, 2 * processes);
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
      frameTimeoutMs: 600_000,
      keepTimeline: true,
      log,
    });
    stats = await farm.stats();
    if (emulated) emulated.throttled = groups.map((g) => g.cpuThrottling().throttled);
  } finally {
    await farm.stop();
    await removeGroups(groups, warnings);
  }

  const prediction = o.profile ? predictFor(o.model, o.stages, o.profile) : undefined;
  const result = benchRunResult({
    runId,
    startedAt,
    model: o.model,
    preset: o.name,
    engine,
    stages: o.stages,
    frames: o.frames,
    completed: sent.completed,
    dropped: sent.dropped,
    ips: sent.ips,
    latencyMs: { p50: sent.latencyMs.p50, p95: sent.latencyMs.p95, p99: sent.latencyMs.p99 },
    processes: sent.processes,
    rss: stats.map((x) => ({ role: x.role, replica: x.replica, shard: x.shard, bytes: Math.max(x.rssBytes, x.peakRssBytes) })),
    ...(sent.timeline ? { timeline: sent.timeline } : {}),
    ...(prediction ? { prediction } : {}),
    ...(o.profile ? { profile: o.profile, network: { bandwidthMbit: 0, latencyMs: 0, lossPct: 0, emulated: false } } : {}),
    bytesPerFrame: networkBytes(stageInfos(spec, o.stages)),
  });
  const { jsonPath, htmlPath } = writeRunReport(result, o.reportsDir, { comparePaper: o.comparePaper ?? false, senderHost: 'sender' });
  return { result, jsonPath, htmlPath, ...(emulated ? { emulated } : {}), warnings };
}
