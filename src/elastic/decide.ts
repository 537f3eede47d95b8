// When the live musical chair moves, as data: the devices seen now in, a move (or why not) out.
// A lost device always moves the farm (its topology has a hole); a device that joins moves it
// only when the plan for the larger farm is predicted at least `minGain` faster than the
// topology running now (a move costs a start and a drain), and not sooner than `minIntervalMs`
// after the last move. A device lost twice within `flapWindowMs` is held out for `holdMs`.
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
}

export const DEFAULT_POLICY: ElasticPolicy = { minGain: 0.15, minIntervalMs: 5000, flapWindowMs: 60_000, holdMs: 30_000 };

export interface DeviceView {
  name: string;
  /** answers now (a device in use: its nodes answer; an idle one: the driver can reach it) */
  alive: boolean;
  /** runs a node of the current topology */
  inUse: boolean;
  /** times it was lost, ms on the controller's clock */
  losses: number[];
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

export function predicted(model: string, stages: StageSpec[], profile: DeviceProfile = PI3): number {
  return evaluateTopology(model, stages, undefined, profile).predictedIps;
}

export function decide(v: FarmView, p: ElasticPolicy = DEFAULT_POLICY): Decision {
  const lost = v.devices.filter((d) => d.inUse && !d.alive);
  const avail = usable(v, p);
  const joined = avail.filter((d) => !d.inUse);
  if (!lost.length && !joined.length) return { move: false };
  if (avail.length < 1) return { move: false, why: 'no device left to run a node' };
  // before a loss: what the topology was predicted to do with every device
  const before = predicted(v.model, v.current, v.profile);
  const next = planFor(v.model, avail.length, v.profile);
  const devices = avail.slice(0, processCount(next.stages)).map((d) => d.name);
  const move = { move: true as const, stages: next.stages, devices, predictedBefore: before, predictedAfter: next.predictedIps };
  if (lost.length) return { ...move, why: `${lost.map((d) => d.name).join(', ')} lost` };
  if (v.now - v.lastMoveAt < p.minIntervalMs) return { move: false, why: `${joined.map((d) => d.name).join(', ')} back, but the last move was ${((v.now - v.lastMoveAt) / 1000).toFixed(1)} s ago` };
  if (next.predictedIps < before * (1 + p.minGain)) return { move: false, why: `${joined.map((d) => d.name).join(', ')} available: the plan for ${avail.length} devices is predicted ${next.predictedIps.toFixed(2)} IPS against ${before.toFixed(2)} now, less than ${Math.round(p.minGain * 100)}% more` };
  return { ...move, why: `${joined.map((d) => d.name).join(', ')} joined` };
}
