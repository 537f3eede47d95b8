// When the live musical chair moves, as data: the devices seen now in, a move (or why not) out.
// A lost device always moves the farm (its topology has a hole); a device that joins moves it
// only when the plan for the larger farm is predicted at least `minGain` faster than the
// topology running now (a move costs a start and a drain), and not sooner than `minIntervalMs`
// after the last move. A device lost twice within `flapWindowMs` is held out for `holdMs`.
// A device whose measured speed is off the one the topology was planned with by more than
// `slowFactor` (throttling: heat, a weak supply; or its recovery) moves the farm like a join: the
// plan for every device at its measured speed (at most nominal) against the running topology at
// those speeds.
import { processCount, type StageSpec } from '../model/spec.js';
import { evaluateTopology, PI3, type DeviceProfile } from '../topology/cost-model.js';
import { planTopology } from '../topology/plan.js';

export interface ElasticPolicy {
  /** a join moves only for at least this predicted gain (0.15: 15%) */
  minGain: number;
  /** no move sooner than this after the last one, a loss excepted */
  minIntervalMs: number;
  flapWindowMs: number;
  holdMs: number;
  /** a measured speed this far from the planned one (2: half or double) re-plans */
  slowFactor: number;
}

export const DEFAULT_POLICY: ElasticPolicy = { minGain: 0.15, minIntervalMs: 5000, flapWindowMs: 60_000, holdMs: 30_000, slowFactor: 2 };

export interface DeviceView {
  name: string;
  /** answers now (a device in use: its nodes answer; an idle one: the driver can reach it) */
  alive: boolean;
  /** runs a node of the current topology */
  inUse: boolean;
  /** times it was lost, ms on the controller's clock */
  losses: number[];
  /** measured speed against a nominal device (1), where known */
  speed?: number;
  /** the speed the running topology was planned with for it (default 1) */
  plannedSpeed?: number;
}

export interface FarmView {
  model: string;
  profile?: DeviceProfile;
  current: StageSpec[];
  devices: DeviceView[];
  now: number;
  lastMoveAt: number;
}

export type Decision =
  | { move: false; why?: string }
  | { move: true; why: string; stages: StageSpec[]; devices: string[]; predictedBefore: number; predictedAfter: number };

/** Devices to plan for: alive, and not held out for flapping. */
export function usable(v: FarmView, p: ElasticPolicy): DeviceView[] {
  return v.devices.filter((d) => d.alive && !heldOut(d, v.now, p));
}

function heldOut(d: DeviceView, now: number, p: ElasticPolicy): boolean {
  const recent = d.losses.filter((t) => now - t < p.flapWindowMs);
  return recent.length >= 2 && now - recent[recent.length - 1]! < p.holdMs;
}

/** The best topology for `nodes` devices of one kind (the sender is one more). */
export function planFor(model: string, nodes: number, profile: DeviceProfile = PI3): { stages: StageSpec[]; predictedIps: number } {
  const plan = planTopology({ model, devices: nodes + 1, profile });
  return { stages: plan.stages, predictedIps: plan.evaluation.predictedIps };
}

/** Speeds within 10% are one device class (a class per device would make the search slow for nothing). */
const speedClass = (s: number | undefined) => Math.round(Math.log(Math.min(1, s ?? 1)) / Math.log(1.1));

function scaled(profile: DeviceProfile, speed: number): DeviceProfile {
  speed = Math.min(1, speed);
  return speed === 1 ? profile : { ...profile, name: `${profile.name}@${speed.toFixed(2)}`, gflops: profile.gflops * speed, layerSeconds: undefined };
}

/** The best topology for these devices at their measured speeds; `devices` says which runs each process, in order. */
export function planForDevices(model: string, devices: DeviceView[], profile: DeviceProfile = PI3): { stages: StageSpec[]; predictedIps: number; devices: string[] } {
  const classes = new Map<number, DeviceView[]>();
  for (const d of devices) classes.set(speedClass(d.speed), [...(classes.get(speedClass(d.speed)) ?? []), d]);
  if (classes.size === 1) {
    const speed = devices.reduce((a, d) => a + Math.min(1, d.speed ?? 1), 0) / devices.length;
    const p = planFor(model, devices.length, scaled(profile, speedClass(speed) === 0 ? 1 : speed));
    return { ...p, devices: devices.slice(0, processCount(p.stages)).map((d) => d.name) };
  }
  const plan = planTopology({
    model,
    classes: [...classes.values()].map((ds) => ({ profile: scaled(profile, speedClass(ds[0]!.speed) === 0 ? 1 : ds[0]!.speed!), count: ds.length, hosts: ds.map((d) => d.name) })),
  });
  return { stages: plan.stages, predictedIps: plan.evaluation.predictedIps, devices: plan.hosts!.flat() };
}

/** The running topology's prediction; with devices, each stage at the speed of its slowest device (round-robin waits for it). */
export function predicted(model: string, stages: StageSpec[], profile: DeviceProfile = PI3, devices?: DeviceView[]): number {
  if (!devices) return evaluateTopology(model, stages, undefined, profile).predictedIps;
  let i = 0;
  const perStage = stages.map((s) => {
    const mine = devices.slice(i, (i += s.replicas * s.shards));
    return scaled(profile, Math.min(...mine.map((d) => d.speed ?? 1)));
  });
  return evaluateTopology(model, stages, undefined, perStage).predictedIps;
}

export function decide(v: FarmView, p: ElasticPolicy = DEFAULT_POLICY): Decision {
  const lost = v.devices.filter((d) => d.inUse && !d.alive);
  const avail = usable(v, p);
  const joined = avail.filter((d) => !d.inUse);
  // slower than planned, or a slow device recovered; a device faster than nominal is not news
  // (the others often speed up when one slows: they share its work's wait, and here its cores)
  const off = (d: DeviceView) => {
    if (d.speed === undefined) return false;
    const planned = d.plannedSpeed ?? 1;
    return d.speed < planned / p.slowFactor || (planned < 1 && Math.min(1, d.speed) > planned * p.slowFactor);
  };
  const changed = avail.filter((d) => d.inUse && off(d));
  if (!lost.length && !joined.length && !changed.length) return { move: false };
  if (avail.length < 1) return { move: false, why: 'no device left to run a node' };
  // before a loss: what the topology was predicted to do with every device; else at the speeds measured now
  const inUse = v.devices.filter((d) => d.inUse);
  const before = lost.length ? predicted(v.model, v.current, v.profile) : predicted(v.model, v.current, v.profile, inUse);
  const next = planForDevices(v.model, avail, v.profile);
  const move = { move: true as const, stages: next.stages, devices: next.devices, predictedBefore: before, predictedAfter: next.predictedIps };
  if (lost.length) return { ...move, why: `${lost.map((d) => d.name).join(', ')} lost` };
  const what = [...(joined.length ? [`${joined.map((d) => d.name).join(', ')} joined`] : []), ...changed.map((d) => `${d.name} runs at ${d.speed!.toFixed(2)}x (planned ${(d.plannedSpeed ?? 1).toFixed(2)}x)`)].join('; ');
  if (v.now - v.lastMoveAt < p.minIntervalMs) return { move: false, why: `${what}, but the last move was ${((v.now - v.lastMoveAt) / 1000).toFixed(1)} s ago` };
  if (next.predictedIps < before * (1 + p.minGain)) return { move: false, why: `${what}: the plan for ${avail.length} devices is predicted ${next.predictedIps.toFixed(2)} IPS against ${before.toFixed(2)} now, less than ${Math.round(p.minGain * 100)}% more` };
  return { ...move, why: what };
}
