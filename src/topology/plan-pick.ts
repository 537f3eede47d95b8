// The planner's phases after the search: pick the best complete pipeline, give the devices it
// leaves over to the slowest stage of their class (the paper's rule), and name the hosts of each
// stage when the classes came from an inventory.
import { instances } from '../model/spec.js';
import { networkIps, transferSeconds } from './cost-model.js';
import type { DeviceClass } from './plan.js';
import type { Entry, PickedStage, SearchResult, SearchSpace } from './plan-search.js';

const EPS = 1e-9;

export interface Best {
  e: Entry;
  /** the pipeline's IPS, the network included */
  ips: number;
  devices: number;
}

/** Ties: fewer devices, then fewer stages, then lower latency; then the earlier in enumeration order. */
export function better(ips: number, devices: number, e: Entry, best: Best): boolean {
  if (Math.abs(ips - best.ips) > EPS * Math.max(1, best.ips)) return ips > best.ips;
  if (devices !== best.devices) return devices < best.devices;
  if (e.stages !== best.e.stages) return e.stages < best.e.stages;
  return e.latency < best.e.latency - EPS;
}

/** The best complete pipeline of the search, or null when none fits (within the latency cap). */
export function pickBest(sp: SearchSpace, r: SearchResult): Best | null {
  let best: Best | null = null;
  for (let u = 0; u < sp.nUsed; u++) {
    const list = r.frontier[sp.L * sp.nUsed + u];
    if (!list) continue;
    const devices = sp.decode(u).reduce((a, b) => a + b, 0);
    for (const e of list) {
      if (sp.capped && e.latency + transferSeconds(e.bytes + sp.lastOut, e.stages, sp.cm) > sp.cap) continue;
      const ips = Math.min(e.ips, networkIps(e.bytes + sp.lastOut, sp.cm));
      if (!best || better(ips, devices, e, best)) best = { e, ips, devices };
    }
  }
  return best;
}

/** The stages of a pipeline, first to last. */
export function stagesOf(best: Best): PickedStage[] {
  const picked: PickedStage[] = [];
  for (let e: Entry | null = best.e; e && e.stage; e = e.prev) picked.unshift({ ...e.stage });
  return picked;
}

/**
 * Gives each class's unused devices, one replica at a time, to the slowest stage of that class
 * that they can hold (a sharded stage takes `shards` devices per replica). Changes `picked`;
 * returns the replicas added per stage index.
 */
export function giveSpare(sp: SearchSpace, picked: PickedStage[]): Map<number, number> {
  const spare = [...sp.counts];
  const given = new Map<number, number>();
  for (const p of picked) spare[p.cls]! -= instances(p);
  const ips = (p: PickedStage) => p.replicas / sp.option(p.from, p.to, p.cls, p.shards).serviceS;
  for (let cls = 0; cls < sp.counts.length; cls++) {
    for (;;) {
      const mine = picked.filter((p) => p.cls === cls && p.shards <= spare[cls]!);
      if (!mine.length) break;
      const slowest = mine.reduce((a, p) => (ips(p) < ips(a) ? p : a));
      slowest.replicas++;
      spare[cls]! -= slowest.shards;
      const at = picked.indexOf(slowest);
      given.set(at, (given.get(at) ?? 0) + 1);
    }
  }
  return given;
}

/** The inventory hosts of each stage's instances (replica-major), in the classes' host order; undefined unless every class names its hosts. */
export function assignHosts(classes: DeviceClass[], picked: PickedStage[]): string[][] | undefined {
  if (!classes.every((c) => c.hosts)) return undefined;
  const next = classes.map(() => 0);
  return picked.map((p) => Array.from({ length: instances(p) }, () => classes[p.cls]!.hosts![next[p.cls]!++]!));
}
