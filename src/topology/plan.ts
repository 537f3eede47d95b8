// The Musical Chair planner: choose stage cuts, replicas and dense-layer shards for the devices at
// hand so the predicted IPS (cost-model.ts) is as high as it can be.
//
// Search: exact dynamic programming over layer boundaries. A state is (layers done, devices used
// of each class); its value is the Pareto set of partial pipelines over (lowest stage IPS so far:
// higher is better, bytes on the shared medium so far: fewer is better, stages: fewer is better).
// The farm's IPS is min(lowest stage IPS, bandwidth / bytes), monotone in both, so keeping every
// non-dominated pair is enough to find the optimum over all contiguous cuts, replica counts and
// shard counts (1..MAX_SHARDS, for stages of exactly one dense layer, as the runtime supports).
// With a latency cap (maxLatencyS) latency joins the Pareto sets, so the search stays exact.
// Each stage runs on one device class (replicas of mixed speed would be held to the slowest by
// round-robin). Ties: fewer devices, then fewer stages, then lower latency, then enumeration order
// (cuts earliest first), so plans are deterministic. Devices the optimum leaves over then go, one
// replica at a time, to the slowest stage of their class (the paper's rule).
import { instances, processCount, loadModelSpec, type StageSpec } from '../model/spec.js';
import { stageInfos, type LayerInfo } from '../model/shapes.js';
import { DEFAULT_COST_MODEL, PI3, evaluateTopology, modelLayers, networkIps, stageCost, transferSeconds, type CostModel, type DeviceProfile, type Evaluation } from './cost-model.js';
import { roleName } from './plan-names.js';
import { explainPlan } from './plan-explain.js';

/** the largest split of one dense layer the planner considers */
export const MAX_SHARDS = 8;

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
  /** the same as classes (the name other modules know) */
  deviceProfiles?: DeviceClass[];
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

interface Entry {
  ips: number;
  bytes: number;
  stages: number;
  latency: number;
  prev: Entry | null;
  stage: { from: number; to: number; cls: number; replicas: number; shards: number } | null;
}

interface StageOption {
  serviceS: number;
  bytesIn: number;
  fits: boolean;
}

export function requestClasses(req: PlanRequest): DeviceClass[] {
  if (req.classes?.length) return req.classes;
  if (req.deviceProfiles?.length) return req.deviceProfiles;
  if (req.devices === undefined) throw new PlanError('give the number of devices (nodes plus the sender) or the device classes');
  if (!Number.isInteger(req.devices) || req.devices < 2) throw new PlanError(`devices: expected an integer >= 2 (the sender and at least one node), got ${req.devices}`);
  let profile = req.profile ?? PI3;
  if (req.gflops !== undefined || req.ramMb !== undefined) profile = { ...profile, name: profile.name, gflops: req.gflops ?? profile.gflops, ramMb: req.ramMb ?? profile.ramMb };
  return [{ profile, count: req.devices - 1 }];
}

export function costModelOf(req: PlanRequest): CostModel {
  return { bandwidthMbit: req.bandwidthMbit ?? DEFAULT_COST_MODEL.bandwidthMbit, sharedMedium: req.sharedMedium ?? DEFAULT_COST_MODEL.sharedMedium, strictMemory: req.strictMemory ?? false };
}

export function planTopology(req: PlanRequest): Plan {
  const t0 = performance.now();
  const classes = requestClasses(req);
  const cm = costModelOf(req);
  const spec = loadModelSpec(req.model);
  const layers = modelLayers(req.model);
  const L = layers.length;
  const K = classes.length;
  const counts = classes.map((c) => c.count);
  // mixed-radix index of the used-devices vector
  const radix = counts.map((c) => c + 1);
  const nUsed = radix.reduce((a, b) => a * b, 1);
  const frontier: (Entry[] | undefined)[] = new Array((L + 1) * nUsed);
  frontier[0] = [{ ips: Infinity, bytes: 0, stages: 0, latency: 0, prev: null, stage: null }];

  // stage options (from, to, class, shards) computed once
  const options: (StageOption | undefined)[] = [];
  const option = (from: number, to: number, cls: number, shards: number): StageOption => {
    const key = ((from * (L + 1) + to) * K + cls) * (MAX_SHARDS + 1) + shards;
    let o = options[key];
    if (!o) {
      const stage: StageSpec = { role: 'x', layers: layers.slice(from, to).map((l) => l.layer.name), replicas: 1, shards };
      const info = stageInfos(spec, [stage])[0]!;
      const c = stageCost(info, classes[cls]!.profile, cm);
      o = { serviceS: c.serviceS, bytesIn: info.inBytes, fits: c.fits };
      options[key] = o;
    }
    return o;
  };
  const decode = (u: number): number[] => {
    const v: number[] = [];
    for (let k = 0; k < K; k++) {
      v.push(u % radix[k]!);
      u = Math.floor(u / radix[k]!);
    }
    return v;
  };
  const stride = radix.map((_, k) => radix.slice(0, k).reduce((a, b) => a * b, 1));
  // A lower bound on the optimum prunes most candidates: the best single stage (the whole model
  // replicated on every device of one class). A partial pipeline below it can never win.
  // With a latency cap the Pareto sets also keep latency (lower is better), which keeps it exact.
  const cap = req.maxLatencyS ?? Infinity;
  const full = cap !== Infinity;
  const lastOut = layers[L - 1]!.outBytes;
  let floor = 0;
  for (let cls = 0; cls < K; cls++) {
    const o = option(0, L, cls, 1);
    const within = o.serviceS + transferSeconds(o.bytesIn + lastOut, 1, cm) <= cap;
    if (o.fits && counts[cls]! > 0 && within) floor = Math.max(floor, Math.min(counts[cls]! / o.serviceS, networkIps(o.bytesIn + layers[L - 1]!.outBytes, cm)));
  }
  // In a mixed farm, the best plan on any one class alone is feasible too: a much higher floor.
  if (K > 1) {
    for (const c of classes) {
      try {
        floor = Math.max(floor, planTopology({ ...req, classes: [c], deviceProfiles: undefined, devices: undefined }).evaluation.predictedIps);
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
      }
    }
  }
  floor *= 1 - 1e-9;
  let states = 0;
  let candidates = 0;
  for (let from = 0; from < L; from++) {
    for (let u = 0; u < nUsed; u++) {
      const here = frontier[from * nUsed + u];
      if (!here) continue;
      states++;
      const used = decode(u);
      for (let to = from + 1; to <= L; to++) {
        const single = to - from === 1 && layers[from]!.layer.type === 'dense';
        const maxShards = single ? Math.min(MAX_SHARDS, layers[from]!.layer.units!) : 1;
        for (let cls = 0; cls < K; cls++) {
          const free = counts[cls]! - used[cls]!;
          for (let shards = 1; shards <= Math.min(maxShards, free); shards++) {
            const o = option(from, to, cls, shards);
            if (!o.fits) continue;
            // more replicas than the best partial pipeline here can use only cost devices
            let ceiling = 0;
            for (const e of here) ceiling = Math.max(ceiling, e.ips);
            for (let replicas = 1; replicas * shards <= free; replicas++) {
              candidates++;
              const target = to * nUsed + u + replicas * shards * stride[cls]!;
              const ips = replicas / o.serviceS;
              if (ips < floor) continue;
              for (const e of here) {
                const cIps = Math.min(e.ips, ips);
                const cBytes = e.bytes + o.bytesIn;
                const cLatency = e.latency + o.serviceS;
                // every term of the latency only grows as stages are added: a partial pipeline over the cap stays over
                if (full && cLatency + transferSeconds(cBytes, e.stages + 1, cm) > cap) continue;
                // checked before an entry is allocated: most candidates are dominated
                if (dominated(frontier[target], cIps, cBytes, e.stages + 1, cLatency, full)) continue;
                insert(frontier, target, { ips: cIps, bytes: cBytes, stages: e.stages + 1, latency: cLatency, prev: e, stage: { from, to, cls, replicas, shards } }, full);
              }
              if (ips >= ceiling) break;
            }
          }
        }
      }
    }
  }

  let best: { e: Entry; ips: number; devices: number } | null = null;
  for (let u = 0; u < nUsed; u++) {
    const list = frontier[L * nUsed + u];
    if (!list) continue;
    const devices = decode(u).reduce((a, b) => a + b, 0);
    for (const e of list) {
      if (full && e.latency + transferSeconds(e.bytes + lastOut, e.stages, cm) > cap) continue;
      const ips = Math.min(e.ips, networkIps(e.bytes + lastOut, cm));
      if (!best || better(ips, devices, e, best)) best = { e, ips, devices };
    }
  }
  if (!best) {
    const total = counts.reduce((a, b) => a + b, 0);
    const within = full ? ` within a latency of ${(cap * 1000).toFixed(0)} ms` : '';
    throw new PlanError(`no topology of ${req.model} fits ${total} node device(s) of ${classes.map((c) => `${c.profile.name} (${c.profile.ramMb} MB)`).join(', ')}${within}; add devices or RAM${full ? ', or allow more latency' : ''}`);
  }

  // rebuild the stages, then give spare devices to the slowest stage of their class
  const picked: { from: number; to: number; cls: number; replicas: number; shards: number }[] = [];
  for (let e: Entry | null = best.e; e && e.stage; e = e.prev) picked.unshift({ ...e.stage });
  const spare = [...counts];
  const spareGiven = new Map<number, number>();
  for (const p of picked) spare[p.cls]! -= instances(p);
  for (let cls = 0; cls < K; cls++) {
    for (;;) {
      const mine = picked.filter((p) => p.cls === cls && p.shards <= spare[cls]!);
      if (!mine.length) break;
      const slowest = mine.reduce((a, p) => (p.replicas / option(p.from, p.to, cls, p.shards).serviceS < a.replicas / option(a.from, a.to, cls, a.shards).serviceS ? p : a));
      slowest.replicas++;
      spare[cls]! -= slowest.shards;
      const at = picked.indexOf(slowest);
      spareGiven.set(at, (spareGiven.get(at) ?? 0) + 1);
    }
  }
  const stages: StageSpec[] = picked.map((p) => ({ role: roleName(layers.slice(p.from, p.to) as LayerInfo[], layers), layers: layers.slice(p.from, p.to).map((l) => l.layer.name), replicas: p.replicas, shards: p.shards }));
  const profiles = picked.map((p) => classes[p.cls]!.profile);
  const evaluation = evaluateTopology(req.model, stages, cm, profiles);
  const total = counts.reduce((a, b) => a + b, 0);
  const usedNodes = processCount(stages);
  const plan: Plan = {
    model: req.model,
    name: `plan-${req.model}-${total + 1}`,
    stages,
    stageDevices: profiles.map((p) => p.name),
    evaluation,
    devices: total + 1,
    unusedDevices: total - usedNodes,
    search: { method: `exact dynamic programming over layer cuts with Pareto sets of (stage IPS, network bytes, stages${full ? ', latency' : ''})`, states, candidates, ms: 0 },
    reasons: [],
  };
  plan.reasons = explainPlan(plan, profiles, spareGiven, cm);
  if (classes.every((c) => c.hosts)) {
    const next = classes.map(() => 0);
    plan.hosts = picked.map((p) => Array.from({ length: instances(p) }, () => classes[p.cls]!.hosts![next[p.cls]!++]!));
  }
  plan.search.ms = performance.now() - t0;
  return plan;
}

const EPS = 1e-9;

function better(ips: number, devices: number, e: Entry, best: { e: Entry; ips: number; devices: number }): boolean {
  if (Math.abs(ips - best.ips) > EPS * Math.max(1, best.ips)) return ips > best.ips;
  if (devices !== best.devices) return devices < best.devices;
  if (e.stages !== best.e.stages) return e.stages < best.e.stages;
  return e.latency < best.e.latency - EPS;
}

type Key = Pick<Entry, 'ips' | 'bytes' | 'stages' | 'latency'>;

/**
 * a is at least as good as b. Without a latency cap, latency only breaks ties of (ips, bytes,
 * stages); with one it is a full dimension, since a faster partial pipeline may be the only one
 * that stays under the cap.
 */
function covers(a: Key, b: Key, full: boolean): boolean {
  if (!(a.ips >= b.ips && a.bytes <= b.bytes && a.stages <= b.stages)) return false;
  if (full) return a.latency <= b.latency;
  return a.ips > b.ips || a.bytes < b.bytes || a.stages < b.stages || a.latency <= b.latency;
}

/** true when an entry of the set is at least as good as the candidate (given field by field) in every respect */
function dominated(list: Entry[] | undefined, ips: number, bytes: number, stages: number, latency: number, full: boolean): boolean {
  if (!list) return false;
  for (const e of list) {
    if (!(e.ips >= ips && e.bytes <= bytes && e.stages <= stages)) continue;
    if (full ? e.latency <= latency : e.ips > ips || e.bytes < bytes || e.stages < stages || e.latency <= latency) return true;
  }
  return false;
}

/** Adds a non-dominated `c` to the Pareto set at `idx`, dropping the entries it dominates. */
function insert(frontier: (Entry[] | undefined)[], idx: number, c: Entry, full: boolean): void {
  let list = frontier[idx];
  if (!list) {
    frontier[idx] = [c];
    return;
  }
  list = list.filter((e) => !covers(c, e, full));
  list.push(c);
  frontier[idx] = list;
}
