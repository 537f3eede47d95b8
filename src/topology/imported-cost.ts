// The cost model for an imported model: its segments are the ranges between neighbouring cut
// points, each with the MACs, weights and activation traffic the import recorded
// (engine/segment-work.ts), timed by the same formula as a built-in layer (cost-model.ts
// workSeconds) or by the device's measured time of that range (DeviceProfile.layerSeconds, keyed
// by the tensor the range starts at: plan --profile). A range that is one dense layer may be split
// into shards. Memory: an imported stage graph carries every weight as an onnxruntime initializer
// (the built-in dense layers are fed as inputs instead), so its factors are its own, measured
// (cost-model.ts IMPORTED_LOAD_FACTOR, IMPORTED_RUN_FACTOR); activations and frames as for a built-in stage.
import { cutRangeWork, type ImportedModel } from '../model/imported.js';
import type { StageSpec } from '../model/spec.js';
import {
  ACTIVATION_FACTOR,
  DEFAULT_COST_MODEL,
  FRAME_FACTOR,
  IMPORTED_LOAD_FACTOR,
  IMPORTED_RUN_FACTOR,
  LOAD_PEAK_FACTOR,
  MB,
  NODE_RUNTIME_MB,
  PAGING_SLOWDOWN,
  PAGING_THRESHOLD,
  PI3,
  evaluationOf,
  ioSeconds,
  usableMb,
  workSeconds,
  type CostModel,
  type DeviceProfile,
  type Evaluation,
  type StageCost,
} from './cost-model.js';
import type { Segments } from './plan-search.js';


/** Seconds of cut range k -> k+1 (or its 1/shards slice) on `d`: measured where the device was profiled, else the formula. */
export function rangeSeconds(m: ImportedModel, k: number, d: DeviceProfile, shards = 1, pages = false): number {
  const cut = m.cuts[k]!;
  const measured = d.layerSeconds?.[cut.tensor];
  if (measured !== undefined) return (measured / shards) * (pages ? PAGING_SLOWDOWN : 1);
  const w = cutRangeWork(m, k);
  return workSeconds({ macs: cut.macsToNext, activationBytes: w.activationBytes, weightBytes: w.weightBytes }, d, shards, pages);
}

/** One instance of the stage of cut ranges [from, to) in `shards` shards on `d`. */
export function importedStageCost(m: ImportedModel, from: number, to: number, shards: number, replicas: number, d: DeviceProfile, cm: CostModel = DEFAULT_COST_MODEL): StageCost {
  const works = Array.from({ length: to - from }, (_, i) => cutRangeWork(m, from + i));
  const weightBytes = works.reduce((a, w) => a + w.weightBytes, 0) / shards;
  const weightsMb = weightBytes / MB;
  const pages = weightsMb > PAGING_THRESHOLD * usableMb(d);
  const computeS = works.reduce((a, _, i) => a + rangeSeconds(m, from + i, d, shards, pages), 0);
  const inBytes = m.cuts[from]!.bytes;
  const outBytes = m.cuts[to]!.bytes / shards;
  const activationMb = Math.max(...works.map((w) => w.largestPairBytes)) / MB;
  const load = NODE_RUNTIME_MB + IMPORTED_LOAD_FACTOR * weightsMb;
  const run = NODE_RUNTIME_MB + IMPORTED_RUN_FACTOR * weightsMb + ACTIVATION_FACTOR * activationMb + (FRAME_FACTOR * (inBytes + outBytes)) / MB;
  const memoryMb = Math.max(load, run, cm.strictMemory ? NODE_RUNTIME_MB + LOAD_PEAK_FACTOR * weightsMb : 0);
  const serviceS = computeS + ioSeconds(inBytes, outBytes, d);
  return { serviceS, computeS, ips: replicas / serviceS, memoryMb, fits: memoryMb <= usableMb(d), pages, weightsMb };
}

/** The planner's segments of an imported model: its cut ranges. */
export function importedSegments(m: ImportedModel): Segments {
  return {
    count: m.cuts.length - 1,
    outBytes: m.cuts[m.cuts.length - 1]!.bytes,
    denseUnits: (i) => cutRangeWork(m, i).denseUnits,
    stage(from, to, shards, device, cm) {
      const c = importedStageCost(m, from, to, shards, 1, device, cm);
      return { serviceS: c.serviceS, bytesIn: m.cuts[from]!.bytes * shards, fits: c.fits };
    },
  };
}

/** The cut indexes [from, to] a stage of an imported model spans (its layers are two cut tensors). */
export function stageCuts(m: ImportedModel, s: StageSpec): [number, number] {
  const index = (t: string) => m.cuts.findIndex((c) => c.tensor === t);
  return [index(s.layers[0]!), index(s.layers[s.layers.length - 1]!)];
}

/** Bytes on the wire per frame: every stage's input (a copy per shard) and the output back to the sender. */
export function importedBytesPerFrame(m: ImportedModel, stages: StageSpec[]): number {
  return stages.reduce((a, s) => a + m.cuts[stageCuts(m, s)[0]]!.bytes * s.shards, 0) + m.cuts[m.cuts.length - 1]!.bytes;
}

/** The predicted behaviour of a topology of an imported model (as evaluateTopology for a built-in one). */
export function evaluateImported(m: ImportedModel, stages: StageSpec[], cm: CostModel = DEFAULT_COST_MODEL, devices: DeviceProfile | DeviceProfile[] = PI3): Evaluation {
  const per = stages.map((s, i) => {
    const d = Array.isArray(devices) ? devices[i]! : devices;
    const [from, to] = stageCuts(m, s);
    const inBytes = m.cuts[from]!.bytes * s.shards;
    return { ...importedStageCost(m, from, to, s.shards, s.replicas, d, cm), role: s.role, layers: s.layers, replicas: s.replicas, shards: s.shards, device: d.name, inBytes };
  });
  return evaluationOf(m.name, per, importedBytesPerFrame(m, stages), cm);
}
