// The CPU quota of an emulated Pi, per stage: the calibration that measures each stage's CPU time
// per frame on this machine before any quota, and the quota that holds it to the cost model's Pi
// (the layers at the model's time, the runtime's own work at the profile's runtime slowdown).
// Shared by `pifarm bench farm` (local processes) and the benchmark on virtual Pis.
import { processCount, loadModelSpec, type StageSpec } from '../model/spec.js';
import { cpuPerFrame } from '../report/run-result.js';
import { stageInfos, type StageInfo } from '../model/shapes.js';
import type { NodeStats } from '../runtime/protocol.js';
import { layerSeconds, stageCost, type DeviceProfile } from '../topology/cost-model.js';
import type { PiProfile } from './emulate/profiles.js';
import { quotaCores, stageQuotaCores, type LayerWork, type Speeds } from './emulate/quota.js';
import type { ImportedModel } from '../model/imported.js';
import { importedStageCost, stageCuts } from '../topology/imported-cost.js';

/** Conv and dense work of one process of a stage (a shard does 1/shards of its dense layer). */
function stageWork(info: StageInfo, device: DeviceProfile): LayerWork[] {
  // the Pi's time per layer is the cost model's (fitted to the paper's per-layer Pi 3 times), so a
  // stage runs as long as the model says a Pi needs for its layers, and what the measured run can
  // disagree on is the rest: this machine's speed on each layer, the runtime's own work, the pipeline
  const pages = stageCost(info, device).pages;
  return info.layers.map((l) => ({ flop: (2 * l.macs) / info.stage.shards, dense: l.layer.type === 'dense', piSeconds: layerSeconds(l, device, info.stage.shards, pages) }));
}

/** The cost model's device for an emulated Pi profile. */
export function deviceOf(profile: PiProfile): DeviceProfile {
  return { name: profile.name, gflops: profile.gflops, ramMb: profile.ramMb };
}

/**
 * Per stage (in order): the fraction of one core each of its processes gets to run as `profile`.
 * With `cpuSecondsPerFrame` (per stage, measured unthrottled), the runtime's own work beyond the
 * layers is held to the profile's runtimeSlowdown instead of the layers' ratio.
 */
export function stageQuotas(model: string | ImportedModel, stages: StageSpec[], profile: PiProfile, machine: Speeds, cpuSecondsPerFrame?: (number | undefined)[]): number[] {
  if (typeof model !== 'string') return importedStageQuotas(model, stages, profile, machine, cpuSecondsPerFrame);
  return stageInfos(loadModelSpec(model), stages).map((info, i) => {
    const c = cpuSecondsPerFrame?.[i];
    return stageQuotaCores(stageWork(info, deviceOf(profile)), profile, machine, c !== undefined && Number.isFinite(c) ? { cpuSecondsPerFrame: c, slowdown: profile.runtimeSlowdown } : undefined);
  });
}

/**
 * The quotas of an imported model's stages. Its operators have no fitted Pi time of their own and
 * this machine's speed on them is not the conv or dense speed measured (a depthwise convolution
 * runs far below it), so the layers cannot be told from the runtime's work in the measured CPU
 * time: each process is held to the cost model's whole time for its stage on the Pi (its ranges
 * and its I/O, imported-cost.ts), so the CPU it needs per frame here takes that long. Before the
 * calibration: the profile's conv speed over this machine's.
 */
function importedStageQuotas(m: ImportedModel, stages: StageSpec[], profile: PiProfile, machine: Speeds, cpuSecondsPerFrame?: (number | undefined)[]): number[] {
  return stages.map((s, i) => {
    const c = cpuSecondsPerFrame?.[i];
    if (c === undefined || !Number.isFinite(c)) return quotaCores(profile.gflops, machine.gflops);
    const [from, to] = stageCuts(m, s);
    return c / importedStageCost(m, from, to, s.shards, s.replicas, deviceOf(profile)).serviceS;
  });
}

/** Per stage (in order): the mean CPU seconds per frame of its processes; undefined where none computed. */
export function stageCpuSeconds(stages: StageSpec[], cpu: { role: string; msPerFrame: number }[]): (number | undefined)[] {
  return stages.map((st) => {
    const xs = cpu.filter((c) => c.role === st.role && Number.isFinite(c.msPerFrame)).map((c) => c.msPerFrame);
    return xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length / 1000 : undefined;
  });
}

export interface QuotaCalibration {
  /** per stage: CPU seconds per frame here, unthrottled */
  cpuSeconds: (number | undefined)[];
  /** per stage: fraction of one core per process */
  quotas: number[];
}

export interface QuotaCalibrationOptions {
  /** a built-in model's name, or an imported package */
  model: string | ImportedModel;
  stages: StageSpec[];
  profile: PiProfile;
  machine: Speeds;
  /** every node process's counters */
  stats(): Promise<NodeStats[]>;
  /** streams `frames` with `window` in flight, wire ids from `idBase` (not the measured run's) */
  stream(frames: number, window: number, idBase: number): Promise<{ dropped: number }>;
  log(m: string): void;
}

/**
 * The calibration, for local processes and virtual Pis alike: frames through the farm before any
 * CPU quota, to measure each stage's CPU time per frame here (the layers plus the runtime's own
 * work), from which the quotas follow. First a warm-up of three frames per process (the first
 * runs of a session allocate, and every stage-to-stage connection opens while the nodes are fast;
 * with one frame each, MobileNetV2's CPU per frame was measured 40% high), then frames one at a time:
 * under the quotas the processes seldom run at once, and a dense layer's CPU time here grows when
 * others stream memory beside it.
 */
export async function calibrateStageQuotas(o: QuotaCalibrationOptions): Promise<QuotaCalibration> {
  const processes = processCount(o.stages);
  const frames = Math.max(8, 2 * processes);
  o.log(`calibration: ${3 * processes} + ${frames} frames at this machine's speed to measure each stage's CPU time per frame`);
  const stream = async (n: number, window: number, idBase: number, what: string) => {
    const r = await o.stream(n, window, idBase);
    if (r.dropped) o.log(`${what}: ${r.dropped} of ${n} frames lost`);
    // the last stage still holds this run's result connection: let its close be seen first
    await new Promise((resolve) => setTimeout(resolve, 500));
  };
  await stream(3 * processes, processes, 2 ** 24, 'warm-up');
  const before = await o.stats();
  await stream(frames, 1, 2 ** 25, 'calibration');
  const cpuSeconds = stageCpuSeconds(o.stages, cpuPerFrame(before, await o.stats()));
  o.log(`CPU per frame here: ${o.stages.map((st, i) => `${st.role} ${((cpuSeconds[i] ?? NaN) * 1000).toFixed(2)} ms`).join(', ')}`);
  return { cpuSeconds, quotas: stageQuotas(o.model, o.stages, o.profile, o.machine, cpuSeconds) };
}
