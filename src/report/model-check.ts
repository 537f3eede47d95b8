// Where the planner's cost model and a measured run disagree, per stage. On an emulated run the
// measure is the time per frame the emulated device needed (CPU time per frame / quota) against
// the model's service time; otherwise the compute time the nodes measured against the model's
// compute time (a process that idles gets its CPU quota in bursts, so the compute time of a stage
// that is not the bottleneck says little about the device). The rule:
// when measured IPS is not within 20% of the prediction, the report names the stage the model got
// wrong. Pure function over a RunResult.
import type { RunResult, StageResult } from './types.js';

/** A stage is "wrong" when measured/predicted compute time leaves [1/1.25, 1.25] (a 20% IPS band). */
export const MODEL_TOLERANCE = 1.25;

export interface StageMiss {
  role: string;
  predictedMs: number;
  measuredMs: number;
  /** measured / predicted compute time */
  ratio: number;
  /** whether this stage limits the measured throughput (highest time per frame per replica) */
  limits: boolean;
  /** what was compared: "per frame on the emulated device" or "of compute per frame" */
  what: string;
}

function perReplica(s: StageResult, ms: number): number {
  return ms / s.replicas;
}

/** The measured and predicted time per frame of one process of a stage, and what they are. */
function measureOf(s: StageResult): { measured: number; predicted: number; what: string } | undefined {
  if (s.deviceMsPerFrame !== undefined && s.predictedServiceMs !== undefined) return { measured: s.deviceMsPerFrame, predicted: s.predictedServiceMs, what: 'per frame on the emulated device' };
  if (s.predictedComputeMs !== undefined && Number.isFinite(s.serviceMs)) return { measured: s.serviceMs, predicted: s.predictedComputeMs, what: 'of compute per frame' };
  return undefined;
}

/** Stages whose measured time is off the model's by more than the tolerance, worst first. */
export function modelMisses(r: RunResult): StageMiss[] {
  const measured = r.stages.map((s) => ({ s, m: measureOf(s) })).filter((x): x is { s: StageResult; m: NonNullable<ReturnType<typeof measureOf>> } => x.m !== undefined);
  if (measured.length === 0) return [];
  const slowest = measured.reduce((a, x) => (perReplica(x.s, x.m.measured) > perReplica(a.s, a.m.measured) ? x : a));
  return measured
    .map((x) => ({ role: x.s.role, predictedMs: x.m.predicted, measuredMs: x.m.measured, ratio: x.m.measured / x.m.predicted, limits: x === slowest, what: x.m.what }))
    .filter((m) => m.ratio > MODEL_TOLERANCE || m.ratio < 1 / MODEL_TOLERANCE)
    .sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)));
}

/** One sentence per miss, for the terminal and the HTML report. */
export function describeMisses(r: RunResult): string[] {
  return modelMisses(r).map(
    (m) =>
      `the model got ${m.role} wrong: predicted ${m.predictedMs.toFixed(0)} ms ${m.what}, measured ${m.measuredMs.toFixed(0)} ms (x${m.ratio.toFixed(2)})${m.limits ? '; it is the stage that limits the measured IPS' : ''}`,
  );
}
