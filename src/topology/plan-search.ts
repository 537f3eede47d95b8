// The planner's search phase: exact dynamic programming over segment boundaries (see plan.ts). A
// state is (segments done, devices used of each class); its value is the Pareto set of partial
// pipelines. The result is the frontier of complete pipelines, one Pareto set per devices-used
// vector, from which plan-pick.ts chooses.
import { networkIps, transferSeconds, type CostModel, type DeviceProfile } from './cost-model.js';
import type { DeviceClass } from './plan.js';

/**
 * What the search cuts: a chain of segments (a built-in model's layers, builtin-segments.ts, or
 * the ranges between an imported graph's cut points, imported-cost.ts), any contiguous run of
 * which is a stage.
 */
export interface Segments {
  readonly count: number;
  /** bytes of the model's output (what the last stage sends the sender) */
  readonly outBytes: number;
  /** output units when segment i alone is one dense layer, which may be split into shards */
  denseUnits(i: number): number | undefined;
  /** one instance of the stage [from, to) in `shards` shards on `device` */
  stage(from: number, to: number, shards: number, device: DeviceProfile, cm: CostModel): StageOption;
}

export interface StageOption {
  serviceS: number;
  /** bytes the stage receives per frame (every shard its copy) */
  bytesIn: number;
  fits: boolean;
}

/** the largest split of one dense layer the planner considers */
export const MAX_SHARDS = 8;

export interface PickedStage {
  from: number;
  to: number;
  cls: number;
  replicas: number;
  shards: number;
}

export interface Entry {
  /** the lowest stage IPS so far (higher is better) */
  ips: number;
  /** bytes on the shared medium so far (fewer is better) */
  bytes: number;
  stages: number;
  latency: number;
  prev: Entry | null;
  stage: PickedStage | null;
}

type Key = Pick<Entry, 'ips' | 'bytes' | 'stages' | 'latency'>;

/**
 * a is at least as good as b. Without a latency cap, latency only breaks ties of (ips, bytes,
 * stages); with one it is a full dimension, since a faster partial pipeline may be the only one
 * that stays under the cap.
 */
export function covers(a: Key, b: Key, full: boolean): boolean {
  if (!(a.ips >= b.ips && a.bytes <= b.bytes && a.stages <= b.stages)) return false;
  if (full) return a.latency <= b.latency;
  return a.ips > b.ips || a.bytes < b.bytes || a.stages < b.stages || a.latency <= b.latency;
}

/** The search's context: the segments, the device classes, their cost of each possible stage. */
export class SearchSpace {
  readonly L: number;
  readonly counts: number[];
  /** mixed-radix index of the used-devices vector */
  readonly radix: number[];
  readonly stride: number[];
  readonly nUsed: number;
  private readonly options: (StageOption | undefined)[] = [];

  constructor(
    readonly segments: Segments,
    readonly classes: DeviceClass[],
    readonly cm: CostModel,
    /** seconds; Infinity: no cap */
    readonly cap: number,
  ) {
    this.L = segments.count;
    this.counts = classes.map((c) => c.count);
    this.radix = this.counts.map((c) => c + 1);
    this.nUsed = this.radix.reduce((a, b) => a * b, 1);
    this.stride = this.radix.map((_, k) => this.radix.slice(0, k).reduce((a, b) => a * b, 1));
  }

  get capped(): boolean {
    return this.cap !== Infinity;
  }

  /** A stage of segments [from, to) on one device of class `cls` in `shards` shards, costed once. */
  option(from: number, to: number, cls: number, shards: number): StageOption {
    const key = ((from * (this.L + 1) + to) * this.classes.length + cls) * (MAX_SHARDS + 1) + shards;
    let o = this.options[key];
    if (!o) {
      o = this.segments.stage(from, to, shards, this.classes[cls]!.profile, this.cm);
      this.options[key] = o;
    }
    return o;
  }

  decode(u: number): number[] {
    const v: number[] = [];
    for (const r of this.radix) {
      v.push(u % r);
      u = Math.floor(u / r);
    }
    return v;
  }

  get lastOut(): number {
    return this.segments.outBytes;
  }

  /** The best single stage (the whole model replicated on every device of one class): a lower bound that prunes. */
  singleStageIps(): number {
    let floor = 0;
    for (let cls = 0; cls < this.classes.length; cls++) {
      const o = this.option(0, this.L, cls, 1);
      const within = o.serviceS + transferSeconds(o.bytesIn + this.lastOut, 1, this.cm) <= this.cap;
      if (o.fits && this.counts[cls]! > 0 && within) floor = Math.max(floor, Math.min(this.counts[cls]! / o.serviceS, networkIps(o.bytesIn + this.lastOut, this.cm)));
    }
    return floor;
  }
}

export interface SearchResult {
  /** per (layers done, devices used): the Pareto set there */
  frontier: (Entry[] | undefined)[];
  states: number;
  candidates: number;
}

/** Every non-dominated pipeline over all cuts, replicas and shards whose stage IPS reaches `floor`. */
export function searchPipelines(sp: SearchSpace, floor: number): SearchResult {
  const { L, nUsed, counts, stride } = sp;
  const full = sp.capped;
  const frontier: (Entry[] | undefined)[] = new Array((L + 1) * nUsed);
  frontier[0] = [{ ips: Infinity, bytes: 0, stages: 0, latency: 0, prev: null, stage: null }];
  // one candidate key, reused: most candidates are dominated, so none is allocated before it is kept
  const key: Key = { ips: 0, bytes: 0, stages: 0, latency: 0 };
  let states = 0;
  let candidates = 0;
  for (let from = 0; from < L; from++) {
    for (let u = 0; u < nUsed; u++) {
      const here = frontier[from * nUsed + u];
      if (!here) continue;
      states++;
      const used = sp.decode(u);
      // more replicas than the best partial pipeline here can use only cost devices
      let ceiling = 0;
      for (const e of here) ceiling = Math.max(ceiling, e.ips);
      for (let to = from + 1; to <= L; to++) {
        const units = to - from === 1 ? sp.segments.denseUnits(from) : undefined;
        const maxShards = units ? Math.min(MAX_SHARDS, units) : 1;
        for (let cls = 0; cls < counts.length; cls++) {
          const free = counts[cls]! - used[cls]!;
          for (let shards = 1; shards <= Math.min(maxShards, free); shards++) {
            const o = sp.option(from, to, cls, shards);
            if (!o.fits) continue;
            for (let replicas = 1; replicas * shards <= free; replicas++) {
              candidates++;
              const ips = replicas / o.serviceS;
              if (ips < floor) continue;
              const target = to * nUsed + u + replicas * shards * stride[cls]!;
              for (const e of here) {
                key.ips = Math.min(e.ips, ips);
                key.bytes = e.bytes + o.bytesIn;
                key.stages = e.stages + 1;
                key.latency = e.latency + o.serviceS;
                // every term of the latency only grows as stages are added: a partial pipeline over the cap stays over
                if (full && key.latency + transferSeconds(key.bytes, key.stages, sp.cm) > sp.cap) continue;
                if (frontier[target]?.some((x) => covers(x, key, full))) continue;
                insert(frontier, target, { ...key, prev: e, stage: { from, to, cls, replicas, shards } }, full);
              }
              if (ips >= ceiling) break;
            }
          }
        }
      }
    }
  }
  return { frontier, states, candidates };
}

/** Adds a non-dominated `c` to the Pareto set at `idx`, dropping the entries it covers. */
function insert(frontier: (Entry[] | undefined)[], idx: number, c: Entry, full: boolean): void {
  const list = frontier[idx];
  frontier[idx] = list ? [...list.filter((e) => !covers(c, e, full)), c] : [c];
}
