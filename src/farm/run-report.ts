// The report of a run through a farm, local (`pifarm demo`) or over SSH (`pifarm run`): the same
// shape both ways, assembled in one place from the sender's figures, the output check and, where
// the nodes are local, their own stats.
import type { StageSpec } from '../model/spec.js';
import type { NodeStats } from '../runtime/protocol.js';
import type { CheckResult } from '../runtime/reference.js';
import type { SenderReport } from '../runtime/sender.js';

export interface StageFigures {
  role: string;
  replicas: number;
  shards: number;
  layers: string;
  /** mean compute time per frame on one process */
  serviceMs: number;
  /** mean over the stage's processes of busy time / steady window */
  utilization: number;
  /** the largest resident memory among the stage's processes, after the run */
  rssMb: number;
  /** the largest resident memory seen, including the block load (weights held twice for a moment) */
  peakRssMb?: number;
  /** frames the stage's processes dropped, by reason (from their stats; local runs) */
  drops?: StageDrops;
}

export interface StageDrops {
  /** wrong size, shape or dtype */
  refused: number;
  /** input queue full */
  queueFull: number;
  /** a shard of the frame never came (merge timeout or capacity) */
  missingShard: number;
  /** the next stage was unreachable, all its replicas down, or the send buffer full */
  notSent: number;
}

export interface DemoReport {
  model: string;
  preset: string;
  engine: string;
  threadsPerProcess: number;
  processes: number;
  frames: number;
  warmup: number;
  window: number | null;
  completed: number;
  dropped: number;
  ips: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
  stages: StageFigures[];
  check: CheckResult;
  sender: Omit<SenderReport, 'samples' | 'timeline'>;
  /** with keepTimeline: every completed frame with its trace (sender clock) */
  timeline?: SenderReport['timeline'];
}

export interface ReportParts {
  model: string;
  preset: string;
  engine: string;
  threads: number;
  processes: number;
  frames: number;
  stages: StageSpec[];
  sent: SenderReport;
  check: CheckResult;
  /** the nodes' own stats (local runs); absent: memory and drop counts are not known here */
  stats?: NodeStats[];
}

export function assembleReport(r: ReportParts): DemoReport {
  const { sent, stats } = r;
  const stages: StageFigures[] = r.stages.map((s) => {
    const procs = sent.processes.filter((p) => p.role === s.role);
    const frames = procs.reduce((a, p) => a + p.frames, 0);
    const mine = (stats ?? []).filter((x) => x.role === s.role);
    const mb = (v: number[]) => (v.length ? Math.max(...v) / 2 ** 20 : NaN);
    const figures: StageFigures = {
      role: s.role,
      replicas: s.replicas,
      shards: s.shards,
      layers: s.layers.length > 1 ? `${s.layers[0]}..${s.layers[s.layers.length - 1]}` : s.layers[0]!,
      serviceMs: frames ? procs.reduce((a, p) => a + p.serviceMs.mean * p.frames, 0) / frames : NaN,
      utilization: procs.length ? procs.reduce((a, p) => a + p.utilization, 0) / (s.replicas * s.shards) : 0,
      rssMb: mb(mine.map((x) => x.rssBytes)),
    };
    if (stats) {
      figures.peakRssMb = mb(mine.map((x) => x.peakRssBytes));
      figures.drops = {
        refused: mine.reduce((a, x) => a + x.refused, 0),
        queueFull: mine.reduce((a, x) => a + x.queueDropped, 0),
        missingShard: mine.reduce((a, x) => a + x.mergeDropped, 0),
        notSent: mine.reduce((a, x) => a + x.sendFailed, 0),
      };
    }
    return figures;
  });
  const { samples: _samples, timeline, ...senderFigures } = sent;
  void _samples;
  return {
    model: r.model,
    preset: r.preset,
    engine: r.engine,
    threadsPerProcess: r.threads,
    processes: r.processes,
    frames: r.frames,
    warmup: sent.warmup,
    window: sent.window,
    completed: sent.completed,
    dropped: sent.dropped,
    ips: sent.ips,
    latencyMs: { p50: sent.latencyMs.p50, p95: sent.latencyMs.p95, p99: sent.latencyMs.p99, mean: sent.latencyMs.mean },
    stages,
    check: r.check,
    sender: senderFigures,
    ...(timeline ? { timeline } : {}),
  };
}
