// Where the planner's cost model and a measured run disagree: per stage, the compute time the
// model predicted for one instance against the compute time the nodes measured. The rule:
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
  /** whether this stage limits the measured throughput (highest service time per replica) */
  limits: boolean;
}

function perReplica(s: StageResult, ms: number): number {
  return ms / s.replicas;
}

/** Stages whose measured compute time is off the model's by more than the tolerance, worst first. */
export function modelMisses(r: RunResult): StageMiss[] {
  const withPrediction = r.stages.filter((s) => s.predictedComputeMs !== undefined && Number.isFinite(s.serviceMs));
  if (withPrediction.length === 0) return [];
  const slowest = withPrediction.reduce((a, s) => (perReplica(s, s.serviceMs) > perReplica(a, a.serviceMs) ? s : a));
  return withPrediction
    .map((s) => ({ role: s.role, predictedMs: s.predictedComputeMs!, measuredMs: s.serviceMs, ratio: s.serviceMs / s.predictedComputeMs!, limits: s === slowest }))
    .filter((m) => m.ratio > MODEL_TOLERANCE || m.ratio < 1 / MODEL_TOLERANCE)
    .sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)));
}

/** One sentence per miss, for the terminal and the HTML report. */
export function describeMisses(r: RunResult): string[] {
  return modelMisses(r).map(
    (m) =>
      `the model got ${m.role} wrong: predicted ${m.predictedMs.toFixed(0)} ms of compute per frame, measured ${m.measuredMs.toFixed(0)} ms (x${m.ratio.toFixed(2)})${m.limits ? '; it is the stage that limits the measured IPS' : ''}`,
  );
}
