// The Musical Chair planner: choose stage cuts, replicas and dense-layer shards for the devices at
// hand so the predicted IPS (cost-model.ts) is as high as it can be.
//
// Phases: search (plan-search.ts), pick the best, give spare devices, assign hosts (plan-pick.ts).
// Search: exact dynamic programming over segment boundaries (a built-in model's layers; an imported
// model's cut ranges, plan-imported.ts). A state is (segments done, devices used of each class); its value is the Pareto set of partial pipelines over (lowest stage IPS so far:
// higher is better, bytes on the shared medium so far: fewer is better, stages: fewer is better).
// The farm's IPS is min(lowest stage IPS, bandwidth / bytes), monotone in both, so keeping every
// non-dominated pair is enough to find the optimum over all contiguous cuts, replica counts and
// shard counts (1..MAX_SHARDS, for stages of exactly one dense layer, as the runtime supports).
// With a latency cap (maxLatencyS) latency joins the Pareto sets, so the search stays exact.
// Each stage runs on one device class (replicas of mixed speed would be held to the slowest by
// round-robin). Ties: fewer devices, then fewer stages, then lower latency, then enumeration order
// (cuts earliest first), so plans are deterministic. Devices the optimum leaves over then go, one
// replica at a time, to the slowest stage of their class (the paper's rule). searchPlan is what
// both models share; planTopology names a built-in model's stages after their layers.
import { processCount, type StageSpec } from '../model/spec.js';
import type { LayerInfo } from '../model/shapes.js';
import { DEFAULT_COST_MODEL, PI3, evaluateTopology, modelLayers, networkIps, type CostModel, type DeviceProfile, type Evaluation } from './cost-model.js';
import { SearchSpace, searchPipelines, type PickedStage, type Segments } from './plan-search.js';
import { builtInSegments } from './builtin-segments.js';
import { assignHosts, giveSpare, pickBest, stagesOf } from './plan-pick.js';
import { roleName } from './plan-names.js';
import { explainPlan } from './plan-explain.js';

export { MAX_SHARDS } from './plan-search.js';

export interface DeviceClass {
  profile: DeviceProfile;
  /** node devices of this class (the sender not included) */
  count: number;
  /** inventory hosts of this class, in order, when planning for an inventory */
  hosts?: string[];
}

export interface PlanRequest {
  model: string;
  /** devices as the paper counts them (nodes + the sender), all of `profile`; or give `classes` */
  devices?: number;
  /** the device of a homogeneous farm (default: Raspberry Pi 3) */
  profile?: DeviceProfile;
  /** shorthands that change the default profile */
  gflops?: number;
  ramMb?: number;
  /** a mixed farm: node devices per class */
  classes?: DeviceClass[];
  bandwidthMbit?: number;
  /** false: every process on one machine, no shared medium */
  sharedMedium?: boolean;
  /** only plans whose predicted latency (one frame through the empty pipeline) is at most this */
  maxLatencyS?: number;
  /** also require twice all weights at start-up, for engines not measured (cost-model.ts LOAD_PEAK_FACTOR); the default counts the onnx engine's measured peaks */
  strictMemory?: boolean;
}

export interface Plan {
  model: string;
  name: string;
  stages: StageSpec[];
  /** device class (profile name) of each stage */
  stageDevices: string[];
  /** inventory hosts of each stage's instances (replica-major), when classes named hosts */
  hosts?: string[][];
  evaluation: Evaluation;
  /** devices given (nodes + sender) and those the plan leaves idle */
  devices: number;
  unusedDevices: number;
  search: { method: string; states: number; candidates: number; ms: number };
  /** why the plan looks as it does, one decision per line */
  reasons: string[];
}

export class PlanError extends Error {
  readonly userFacing = true;
}

export function requestClasses(req: PlanRequest): DeviceClass[] {
  if (req.classes?.length) return req.classes;
  if (req.devices === undefined) throw new PlanError('give the number of devices (nodes plus the sender) or the device classes');
  if (!Number.isInteger(req.devices) || req.devices < 2) throw new PlanError(`devices: expected an integer >= 2 (the sender and at least one node), got ${req.devices}`);
  let profile = req.profile ?? PI3;
  if (req.gflops !== undefined || req.ramMb !== undefined) profile = { ...profile, name: profile.name, gflops: req.gflops ?? profile.gflops, ramMb: req.ramMb ?? profile.ramMb };
  return [{ profile, count: req.devices - 1 }];
}

export function costModelOf(req: PlanRequest): CostModel {
  return { bandwidthMbit: req.bandwidthMbit ?? DEFAULT_COST_MODEL.bandwidthMbit, sharedMedium: req.sharedMedium ?? DEFAULT_COST_MODEL.sharedMedium, strictMemory: req.strictMemory ?? false };
}

/** The search's choice over some segments, before its stages are named: what both planners share. */
export interface SearchedPlan {
  sp: SearchSpace;
  picked: PickedStage[];
  /** replicas given to each stage index from the devices the optimum left over */
  spareGiven: Map<number, number>;
  classes: DeviceClass[];
  cm: CostModel;
  states: number;
  candidates: number;
}

/** The exact search over `segments` for the request's devices (nodes of `what`, for errors). */
export function searchPlan(segments: Segments, req: PlanRequest, what: string): SearchedPlan {
  const classes = requestClasses(req);
  const cm = costModelOf(req);
  const sp = new SearchSpace(segments, classes, cm, req.maxLatencyS ?? Infinity);
  const result = searchPipelines(sp, pruningFloor(segments, req, sp, classes, what));
  const best = pickBest(sp, result);
  if (!best) {
    const total = sp.counts.reduce((a, b) => a + b, 0);
    const within = sp.capped ? ` within a latency of ${(sp.cap * 1000).toFixed(0)} ms` : '';
    throw new PlanError(`no topology of ${what} fits ${total} node device(s) of ${classes.map((c) => `${c.profile.name} (${c.profile.ramMb} MB)`).join(', ')}${within}; add devices or RAM${sp.capped ? ', or allow more latency' : ''}`);
  }
  const picked = stagesOf(best);
  const spareGiven = giveSpare(sp, picked);
  return { sp, picked, spareGiven, classes, cm, states: result.states, candidates: result.candidates };
}

export function planTopology(req: PlanRequest): Plan {
  const t0 = performance.now();
  const { sp, picked, spareGiven, classes, cm, states, candidates } = searchPlan(builtInSegments(req.model), req, req.model);
  const layers = modelLayers(req.model);
  const stages: StageSpec[] = picked.map((p) => ({ role: roleName(layers.slice(p.from, p.to) as LayerInfo[], layers), layers: layers.slice(p.from, p.to).map((l) => l.layer.name), replicas: p.replicas, shards: p.shards }));
  const profiles = picked.map((p) => classes[p.cls]!.profile);
  const total = sp.counts.reduce((a, b) => a + b, 0);
  const plan: Plan = {
    model: req.model,
    name: `plan-${req.model}-${total + 1}`,
    stages,
    stageDevices: profiles.map((p) => p.name),
    evaluation: evaluateTopology(req.model, stages, cm, profiles),
    devices: total + 1,
    unusedDevices: total - processCount(stages),
    search: { method: searchMethod(sp, 'layer'), states, candidates, ms: 0 },
    reasons: [],
  };
  plan.reasons = explainPlan(plan, profiles, spareGiven, cm);
  const hosts = assignHosts(classes, picked);
  if (hosts) plan.hosts = hosts;
  plan.search.ms = performance.now() - t0;
  return plan;
}

export function searchMethod(sp: SearchSpace, cut: string): string {
  return `exact dynamic programming over ${cut} cuts with Pareto sets of (stage IPS, network bytes, stages${sp.capped ? ', latency' : ''})`;
}

/** The predicted IPS of the picked stages: the slowest stage or the network. */
function pickedIps(sp: SearchSpace, picked: PickedStage[]): number {
  const bytes = picked.reduce((a, p) => a + sp.option(p.from, p.to, p.cls, p.shards).bytesIn, 0) + sp.lastOut;
  return Math.min(...picked.map((p) => p.replicas / sp.option(p.from, p.to, p.cls, p.shards).serviceS), networkIps(bytes, sp.cm));
}

/**
 * A lower bound on the optimum: a partial pipeline below it can never win, which prunes most
 * candidates. The best single stage on one class; in a mixed farm, the best plan on any one class
 * alone is feasible too (a much higher floor).
 */
function pruningFloor(segments: Segments, req: PlanRequest, sp: SearchSpace, classes: DeviceClass[], what: string): number {
  let floor = sp.singleStageIps();
  if (classes.length > 1) {
    for (const c of classes) {
      try {
        const alone = searchPlan(segments, { ...req, classes: [c], devices: undefined }, what);
        floor = Math.max(floor, pickedIps(alone.sp, alone.picked));
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
      }
    }
  }
  return floor * (1 - 1e-9);
}
