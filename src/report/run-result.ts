// The one way a measured run becomes a RunResult: the sender's report, the nodes' own stats where
// they were read, the output check, and on a benchmark the planner's prediction and the emulated
// device. The demo, `pifarm run`/`up`, `pifarm bench farm` and the benchmark on virtual Pis all
// call `runResult`, so their JSON and reports have one shape.
import { stageInfos } from '../model/shapes.js';
import { instances, loadModelSpec, processCount, type StageSpec } from '../model/spec.js';
import type { NodeStats } from '../runtime/protocol.js';
import type { CheckResult } from '../runtime/reference.js';
import type { SenderReport } from '../runtime/sender.js';
import { processName } from '../runtime/process-name.js';
import { networkBytes, type Evaluation } from '../topology/cost-model.js';
import type { PowerSpec } from '../inventory/types.js';
import { energyOfRun } from './energy.js';
import type { CheckedRun, FrameRecord, RunResult, StageDrops, StageResult } from './types.js';

/** "YYYYMMDD-HHMMSS" (UTC), after "<prefix>-" when given: sortable, and a valid directory name. */
export function newRunId(prefix?: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return prefix ? `${prefix.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}` : stamp;
}

/** The emulated Pi every node process stood for, and the network it had. */
export interface Emulation {
  profile: { name: string; gflops: number; power: PowerSpec };
  network: { bandwidthMbit: number; latencyMs: number; lossPct: number; emulated: boolean };
  /** per stage in order: the fraction of one core each of its processes got */
  quotaCores?: number[];
}

export interface RunParts {
  kind: RunResult['kind'];
  /** default: newRunId(`${kind}-${topology}`) */
  runId?: string;
  /** default: the sender's start (now less its wall time) */
  startedAt?: string;
  model: string;
  /** the preset's name, "plan-N", or the topology's */
  topology: string;
  engine: string;
  threads?: number;
  stages: StageSpec[];
  sent: Omit<SenderReport, 'samples'>;
  /** the nodes' counters after the run and, for CPU per frame, after loading */
  nodes?: { after: NodeStats[]; before?: NodeStats[] };
  check?: CheckResult;
  prediction?: Evaluation;
  emulation?: Emulation;
  /** where each node process ran, by processName(); absent, a process is named after its place */
  hostNames?: Record<string, string>;
  /** bytes on the network per frame; default: from the built-in model's stage shapes */
  bytesPerFrame?: number;
}

/** CPU ms per frame of each node process between two readings of its counters. */
export function cpuPerFrame(before: NodeStats[], after: NodeStats[]): { role: string; replica: number; shard: number; msPerFrame: number }[] {
  return after.map((a) => {
    const b = before.find((x) => x.role === a.role && x.replica === a.replica && x.shard === a.shard);
    const frames = a.computed - (b?.computed ?? 0);
    return { role: a.role, replica: a.replica, shard: a.shard, msPerFrame: frames > 0 ? (a.cpuMs - (b?.cpuMs ?? 0)) / frames : NaN };
  });
}

const hostName = (process: string, names: Record<string, string>) => names[process] ?? process;
const maxMb = (v: number[]) => (v.length ? Math.max(...v) / 2 ** 20 : undefined);
const sum = (v: number[]) => v.reduce((a, x) => a + x, 0);

function dropsOf(mine: NodeStats[]): StageDrops {
  return {
    refused: sum(mine.map((x) => x.refused)),
    queueFull: sum(mine.map((x) => x.queueDropped)),
    missingShard: sum(mine.map((x) => x.mergeDropped)),
    notSent: sum(mine.map((x) => x.sendFailed)),
  };
}

function stageResult(p: RunParts, s: StageSpec, i: number): StageResult {
  const procs = p.sent.processes.filter((x) => x.role === s.role);
  const frames = sum(procs.map((x) => x.frames));
  const mine = p.nodes?.after.filter((x) => x.role === s.role);
  const cpu = p.nodes?.before ? cpuPerFrame(p.nodes.before, p.nodes.after).filter((c) => c.role === s.role && Number.isFinite(c.msPerFrame)).map((c) => c.msPerFrame) : [];
  const cpuMsPerFrame = cpu.length ? sum(cpu) / cpu.length : undefined;
  const quota = p.emulation?.quotaCores?.[i];
  const predicted = p.prediction?.stages.find((x) => x.role === s.role);
  const hosts: string[] = [];
  for (let r = 0; r < s.replicas; r++) for (let k = 0; k < s.shards; k++) hosts.push(hostName(processName({ role: s.role, replica: r, shard: k }, s.shards), p.hostNames ?? {}));
  const rssMb = mine && maxMb(mine.map((x) => x.rssBytes));
  const peakRssMb = mine && maxMb(mine.map((x) => x.peakRssBytes));
  return {
    role: s.role,
    replicas: s.replicas,
    shards: s.shards,
    layers: s.layers.length > 1 ? `${s.layers[0]}..${s.layers[s.layers.length - 1]}` : s.layers[0]!,
    hosts,
    serviceMs: frames ? sum(procs.map((x) => x.serviceMs.mean * x.frames)) / frames : NaN,
    utilization: procs.length ? sum(procs.map((x) => x.utilization)) / instances(s) : 0,
    queueMs: frames ? sum(procs.map((x) => x.waitMs.mean * x.frames)) / frames : undefined,
    ...(rssMb !== undefined ? { rssMb } : {}),
    ...(peakRssMb !== undefined ? { peakRssMb } : {}),
    ...(mine ? { drops: dropsOf(mine) } : {}),
    ...(cpuMsPerFrame !== undefined ? { cpuMsPerFrame } : {}),
    ...(cpuMsPerFrame !== undefined && quota ? { deviceMsPerFrame: cpuMsPerFrame / quota } : {}),
    ...(predicted ? { predictedComputeMs: predicted.computeS * 1000, predictedServiceMs: predicted.serviceS * 1000 } : {}),
  };
}

/** The timeline from the run's first frame, each hop named after its host. */
function shiftTimeline(frames: NonNullable<SenderReport['timeline']>, stages: StageSpec[], hostNames: Record<string, string> = {}): FrameRecord[] {
  if (frames.length === 0) return [];
  const t0 = Math.min(...frames.map((f) => f.sentAt));
  const shards = new Map(stages.map((s) => [s.role, s.shards]));
  return frames.map((f) => ({
    id: f.id,
    sentAt: f.sentAt - t0,
    ...(f.doneAt !== undefined ? { doneAt: f.doneAt - t0 } : {}),
    trace: f.trace.map((h) => ({ ...h, host: hostName(processName(h, shards.get(h.role) ?? 1), hostNames), arrival: h.arrival - t0, start: h.start - t0, end: h.end - t0 })),
  }));
}

export function runResult(p: RunParts & { check: CheckResult }): CheckedRun;
export function runResult(p: RunParts): RunResult;
export function runResult(p: RunParts): RunResult {
  const { samples: _samples, sampleInputs: _inputs, timeline, ...sender } = p.sent as SenderReport;
  void _samples;
  void _inputs;
  const stages = p.stages.map((s, i) => stageResult(p, s, i));
  const busiest = stages.reduce((a, s) => (s.serviceMs / s.replicas > a.serviceMs / a.replicas ? s : a), stages[0]!);
  const processes = processCount(p.stages);
  const pr = p.prediction;
  const em = p.emulation;
  const result: RunResult = {
    runId: p.runId ?? newRunId(`${p.kind}-${p.topology}`),
    startedAt: p.startedAt ?? new Date(Date.now() - sender.wallMs).toISOString(),
    kind: p.kind,
    model: p.model,
    preset: p.topology,
    engine: p.engine,
    devices: processes + 1,
    processes,
    ...(p.threads !== undefined ? { threadsPerProcess: p.threads } : {}),
    frames: sender.frames,
    completed: sender.completed,
    dropped: sender.dropped,
    ips: sender.ips,
    latencyMs: { p50: sender.latencyMs.p50, p95: sender.latencyMs.p95, p99: sender.latencyMs.p99, mean: sender.latencyMs.mean },
    sender,
    stages,
    bottleneck: busiest?.role,
    ...(pr ? { predicted: { ips: pr.predictedIps, bottleneck: pr.bottleneck.kind === 'network' ? 'network' : pr.bottleneck.role ?? '?', ratio: sender.ips / pr.predictedIps } } : {}),
    bytesPerFrame: p.bytesPerFrame ?? networkBytes(stageInfos(loadModelSpec(p.model), p.stages)),
    ...(em
      ? {
          emulation: {
            profile: em.profile.name,
            gflops: em.profile.gflops,
            bandwidthMbit: em.network.emulated ? em.network.bandwidthMbit : 0,
            latencyMs: em.network.emulated ? em.network.latencyMs : 0,
            lossPct: em.network.emulated ? em.network.lossPct : 0,
          },
        }
      : {}),
    ...(p.check ? { check: p.check } : {}),
    ...(timeline ? { timeline: shiftTimeline(timeline, p.stages, p.hostNames) } : {}),
  };
  // Energy as the paper computes it, with the emulated device's power figures for every process
  // and for the sender (the paper's sender was a Pi too).
  if (em && result.ips > 0) result.energy = energyOfRun(result, () => em.profile.power, 'sender');
  return result;
}
