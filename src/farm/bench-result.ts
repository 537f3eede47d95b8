// The RunResult of a farm benchmark, from what the sender measured, what the nodes reported, the
// planner's prediction and the emulation settings. Local node processes are each one emulated
// device, so they are named after their place in the topology ("fc1.0.s1"), not "local".
import type { StageSpec } from '../model/spec.js';
import type { ProcessFigures } from '../runtime/stats.js';
import type { Evaluation } from '../topology/cost-model.js';
import type { PiProfile } from '../emulate/profiles.js';
import { energyOfRun } from '../report/energy.js';
import type { FrameRecord, RunResult, StageResult } from '../report/types.js';

/** "<prefix>-YYYYMMDD-HHMMSS" (UTC): sortable, and a valid directory name. */
export function newRunId(prefix: string, now = new Date()): string {
  return `${prefix}-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;
}

/** The device name of one node process of a local farm. */
export function processName(role: string, replica: number, shard: number, shards: number): string {
  return `${role}.${replica}${shards > 1 ? `.s${shard}` : ''}`;
}

export interface BenchFigures {
  runId: string;
  startedAt: string;
  model: string;
  preset: string;
  engine: string;
  stages: StageSpec[];
  frames: number;
  completed: number;
  dropped: number;
  ips: number;
  latencyMs: { p50: number; p95: number; p99: number };
  processes: ProcessFigures[];
  /** per node process: resident memory (bytes) */
  rss?: { role: string; replica: number; shard: number; bytes: number }[];
  /** per node process: CPU ms per frame over the streamed frames */
  cpu?: { role: string; replica: number; shard: number; msPerFrame: number }[];
  /** emulated runs, per stage in order: the fraction of one core each of its processes got */
  quotaCores?: number[];
  /** per-frame records with absolute times (the sender's clock); shifted to the run's start here */
  timeline?: FrameRecord[];
  prediction?: Evaluation;
  profile?: PiProfile;
  network?: { bandwidthMbit: number; latencyMs: number; lossPct: number; emulated: boolean };
  bytesPerFrame?: number;
  check?: { compared: number; maxAbsDiff: number; ok: boolean };
  /**
   * Where each node process ran, keyed by processName(): a farm on real hosts names them
   * ("vpi3"), in the stage table and the timeline; absent, a process is named after its place.
   */
  hostNames?: Record<string, string>;
}

function shiftTimeline(frames: FrameRecord[], stages: StageSpec[], hostNames: Record<string, string> = {}): FrameRecord[] {
  if (frames.length === 0) return [];
  const t0 = Math.min(...frames.map((f) => f.sentAt));
  const shards = new Map(stages.map((s) => [s.role, s.shards]));
  return frames.map((f) => ({
    id: f.id,
    sentAt: f.sentAt - t0,
    ...(f.doneAt !== undefined ? { doneAt: f.doneAt - t0 } : {}),
    trace: f.trace.map((h) => ({ ...h, host: hostName(processName(h.role, h.replica, h.shard, shards.get(h.role) ?? 1), hostNames), arrival: h.arrival - t0, start: h.start - t0, end: h.end - t0 })),
  }));
}

const hostName = (process: string, names: Record<string, string>) => names[process] ?? process;

export function benchRunResult(b: BenchFigures): RunResult {
  const stages: StageResult[] = b.stages.map((s, i) => {
    const cpu = (b.cpu ?? []).filter((c) => c.role === s.role && Number.isFinite(c.msPerFrame)).map((c) => c.msPerFrame);
    const cpuMsPerFrame = cpu.length ? cpu.reduce((a, x) => a + x, 0) / cpu.length : undefined;
    const quota = b.quotaCores?.[i];
    const procs = b.processes.filter((p) => p.role === s.role);
    const frames = procs.reduce((a, p) => a + p.frames, 0);
    const rss = (b.rss ?? []).filter((r) => r.role === s.role).map((r) => r.bytes);
    const predicted = b.prediction?.stages.find((x) => x.role === s.role);
    const hosts: string[] = [];
    for (let r = 0; r < s.replicas; r++) for (let k = 0; k < s.shards; k++) hosts.push(hostName(processName(s.role, r, k, s.shards), b.hostNames ?? {}));
    return {
      role: s.role,
      replicas: s.replicas,
      shards: s.shards,
      hosts,
      serviceMs: frames ? procs.reduce((a, p) => a + p.serviceMs.mean * p.frames, 0) / frames : NaN,
      utilization: procs.length ? procs.reduce((a, p) => a + p.utilization, 0) / (s.replicas * s.shards) : 0,
      queueMs: frames ? procs.reduce((a, p) => a + p.waitMs.mean * p.frames, 0) / frames : undefined,
      ...(rss.length ? { rssMb: Math.max(...rss) / 2 ** 20 } : {}),
      ...(cpuMsPerFrame !== undefined ? { cpuMsPerFrame } : {}),
      ...(cpuMsPerFrame !== undefined && quota ? { deviceMsPerFrame: cpuMsPerFrame / quota } : {}),
      ...(predicted ? { predictedComputeMs: predicted.computeS * 1000, predictedServiceMs: predicted.serviceS * 1000 } : {}),
    };
  });
  const busiest = stages.reduce((a, s) => (s.serviceMs / s.replicas > a.serviceMs / a.replicas ? s : a), stages[0]!);
  const devices = b.stages.reduce((a, s) => a + s.replicas * s.shards, 0) + 1;
  const p = b.prediction;
  const result: RunResult = {
    runId: b.runId,
    startedAt: b.startedAt,
    kind: 'bench',
    model: b.model,
    preset: b.preset,
    engine: b.engine,
    devices,
    frames: b.frames,
    completed: b.completed,
    dropped: b.dropped,
    ips: b.ips,
    latencyMs: b.latencyMs,
    stages,
    bottleneck: busiest?.role,
    ...(p ? { predicted: { ips: p.predictedIps, bottleneck: p.bottleneck.kind === 'network' ? 'network' : p.bottleneck.role ?? '?', ratio: b.ips / p.predictedIps } } : {}),
    ...(b.bytesPerFrame ? { bytesPerFrame: b.bytesPerFrame } : {}),
    ...(b.profile
      ? {
          emulation: {
            profile: b.profile.name,
            gflops: b.profile.gflops,
            bandwidthMbit: b.network?.emulated ? b.network.bandwidthMbit : 0,
            latencyMs: b.network?.emulated ? b.network.latencyMs : 0,
            lossPct: b.network?.emulated ? b.network.lossPct : 0,
          },
        }
      : {}),
    ...(b.check ? { check: b.check } : {}),
    ...(b.timeline ? { timeline: shiftTimeline(b.timeline, b.stages, b.hostNames) } : {}),
  };
  // Energy as the paper computes it, with the emulated device's power figures for every process
  // and for the sender (the paper's sender was a Pi too).
  if (b.profile && result.ips > 0) {
    const power = b.profile.power;
    result.energy = energyOfRun(result, () => power, 'sender');
  }
  return result;
}
