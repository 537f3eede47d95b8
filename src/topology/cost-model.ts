// The planner's cost model, in one place so measured figures can be set against it (bench/).
// Every constant is named, with where it comes from. Times are seconds per frame, sizes bytes.
//
// A layer's time on a device is compute + activation traffic + weight traffic:
//   t = 2*MACs / flops + (input + output bytes) / activationBw + weight bytes / weightBw
// The rates of the default Raspberry Pi 3 come from the paper authors' Keras layer times
// (PI3_VGG16_LAYER_SECONDS, from parallel-ml/fc): 5.56 GFLOPS peak conv rate and 54 MB/s activation
// traffic from a least-squares fit over the 21 layers, within 10% on the big conv layers; the
// weight streaming rate, 493 MB/s, from fc2 and fc3 alone (0.177 s for 83.5 MB of weights and
// 42 MFLOP), so the model gives those two exactly (the fit's own 607 MB/s made them 18% fast).
// A single "effective" figure, 2*conv MACs / conv time = 30.7 GFLOP / 7.29 s
// = 4.21 GFLOPS, is what an inventory's `gflops` is compared with: a host saying gflops: 8.42
// is modelled as a Pi 3 with every rate doubled.
// VGG16 fc1 (411 MB of weights) took 2.48 s, 2.85x the 0.87 s the rates predict: a 1 GB Pi pages
// when one process holds that much (the framework keeps a second copy while loading). That is the
// paper's reason to split fc1, and the model's PAGING_* constants.
import { processCount, loadModelSpec, type StageSpec } from '../model/spec.js';
import { layerInfos, stageInfos, size, FLOAT_BYTES, type LayerInfo, type StageInfo } from '../model/shapes.js';

export const MB = 1e6;

/** 2*conv MACs / conv seconds of VGG16 on a Pi 3 (Keras): the "effective GFLOPS" of a Pi 3 */
export const PI3_EFFECTIVE_GFLOPS = 4.21;
/** fitted conv compute rate of a Pi 3, FLOP/s */
export const PI3_PEAK_FLOPS = 5.56e9;
/** fitted activation read+write rate of a Pi 3 (conv and pool inputs/outputs), bytes/s */
export const PI3_ACTIVATION_BW = 54 * MB;
/** weight streaming rate of a Pi 3 (dense layers read every weight once per frame), bytes/s: (fc2+fc3 bytes) / (0.177 s - their compute) */
export const PI3_WEIGHT_BW = 493 * MB;
/** Pi 3: 1024 MB, of which the OS and services keep about 324 MB (700 MB usable, as the paper's Pis) */
export const PI3_RAM_MB = 1024;
export const OS_RESERVED_MB = 324;
/*
 * Memory of one node process: the larger of its two peaks, both measured (VmHWM) by
 * `npm run bench -- memory` (bench/memory.ts), onnx engine (onnxruntime-node 1.x,
 * x64), 43 blocks of AlexNet and VGG16 in 11 runs: 1 and 4 threads, sender windows 8, 16 and 32
 * (pifarm run streams min(32, 2 x node processes) frames at once); each block's highest peak
 * kept (the same block varies by up to 10% between runs, with V8's garbage collection), and
 * fitted (linear programme: the least total over-count with every model >= 1.05 x that peak;
 * then rounded up):
 *   load = NODE_RUNTIME_MB + dense + CONV_LOAD_FACTOR x conv + CONV_LAYER_LOAD_FACTOR x largest conv layer
 *   run  = NODE_RUNTIME_MB + dense + CONV_RUN_FACTOR x conv + ACTIVATION_FACTOR x largest activation
 *          pair + FRAME_FACTOR x (a frame in + a frame out)
 * (weights in MB). Dense weights are held once (engine/onnx.ts feeds them as inputs). Conv weights
 * are onnxruntime initializers: at load the protobuf, onnxruntime's parsed copy, its pre-packed
 * copy and the generator's pieces coexist (4-7x the conv weights), after it 1-3x stays.
 * Running, onnxruntime's arena holds the activations, and frames in flight (queue, Avro buffers,
 * the send buffer, the frames kept for failover re-sends) grow with the tensors a node receives
 * and sends (a fast stage before a slow one holds the most: VGG16 block1 peaks at 280 MB with 8
 * frames in flight, 338 MB with 32). Model / measured: 1.057-1.57, mean 1.21. Another engine
 * (tfjs) was not measured: see strictMemory.
 */
/** a node process before any block: Node.js, onnxruntime, avsc, buffers (measured: 94-106 MB; fitted with the margin) */
export const NODE_RUNTIME_MB = 150;
/** load peak per MB of conv weights (onnxruntime initializer copies and pre-packing) */
export const CONV_LOAD_FACTOR = 4.5;
/** load peak per MB of the largest conv layer (one layer's transient buffers) */
export const CONV_LAYER_LOAD_FACTOR = 2;
/** resident per MB of conv weights once loaded */
export const CONV_RUN_FACTOR = 3;
/** per MB of the largest input + output pair of one layer (onnxruntime's arena) */
export const ACTIVATION_FACTOR = 7;
/** per MB of one frame received plus one sent (frames in flight, up to 32 in the pipeline) */
export const FRAME_FACTOR = 10;
/**
 * strictMemory (pifarm plan --strict-memory): also require this many copies of all weights at
 * start-up, the rule of frameworks that hold the model bytes and their own copy while loading
 * (the paper's Keras; engines not measured by bench/memory.ts). The default model already counts
 * the onnx engine's measured start-up peak. On a Pi 3 it caps a process at 275 MB of
 * weights: the whole of VGG16 (553 MB) or its fc1 (411 MB) must then be split.
 */
export const LOAD_PEAK_FACTOR = 2;
/*
 * Memory of an imported stage's process, measured (VmHWM and VmRSS of one process loading the
 * stage file from its path in onnxruntime and running it, less that process's 54 MB before it;
 * the zoo-shaped VGG16): load peaks of 1.97x the weights for fc6 whole (411 MB), 2.03x and 2.4x
 * for its halves and eighths, 2.04x for fc7+fc8 (83 MB), 3.1x for the 59 MB of its convolutions
 * (onnxruntime pre-packs them); resident after it 1.0x for dense weights. Fitted with the built-in
 * model's node runtime (NODE_RUNTIME_MB, ~50 MB more than that process): model / measured
 * 1.18-1.36 on those five stages. In node processes (bench farm --preset vgg16-11 on it, 14 frames
 * in flight, peak of each stage's processes): 1.24 for the convolutions, 1.26 for an fc6 half,
 * 1.40 for fc7+fc8.
 */
/** load peak per MB of an imported stage's weights */
export const IMPORTED_LOAD_FACTOR = 2.3;
/** resident per MB of them while it runs (activations and frames on top, as for a built-in stage) */
export const IMPORTED_RUN_FACTOR = 1.5;
/** a process whose weights exceed this share of usable RAM pages while it runs ... */
export const PAGING_THRESHOLD = 0.5;
/** ... and its weight traffic is this much slower (VGG16 fc1 on a Pi 3: (2.483 s measured - 0.037 s compute) / 0.834 s of weights at PI3_WEIGHT_BW) */
export const PAGING_SLOWDOWN = 2.93;
/**
 * Fixed cost per message a node receives or sends (Avro framing, syscalls, scheduling): about
 * 0.3 ms per 100 KB frame on an x86 core (`npm run bench -- pipeline`, added latency per hop);
 * a Pi 3 is about 10x slower.
 */
export const HOP_OVERHEAD_S = 0.003;
/** one-way latency of a hop across the Wi-Fi (station -> access point -> station), for latency only (estimate) */
export const HOP_LATENCY_S = 0.002;
/** default shared Wi-Fi medium: the paper's 300 Mbit/s 802.11n router */
export const DEFAULT_BANDWIDTH_MBIT = 300;
/**
 * Infrastructure-mode Wi-Fi relays station-to-station traffic through the access point, so every
 * byte between two Pis takes the shared air twice.
 */
export const AIRTIME_PER_BYTE = 2;
/** Pi 4 (4x Cortex-A72 1.5 GHz): about 3x a Pi 3 on CNN inference (published benchmarks, not measured here) */
export const PI4_SPEEDUP = 3;

export interface DeviceProfile {
  /** e.g. "pi3", "pi4", or a host name */
  name: string;
  /** effective GFLOPS on the scale of PI3_EFFECTIVE_GFLOPS; every rate scales with it */
  gflops: number;
  ramMb: number;
  /** measured seconds per layer (pifarm plan --profile); replaces the formula where given */
  layerSeconds?: Record<string, number>;
}

export const PI3: DeviceProfile = { name: 'pi3', gflops: PI3_EFFECTIVE_GFLOPS, ramMb: PI3_RAM_MB };
export const PI4: DeviceProfile = { name: 'pi4', gflops: PI3_EFFECTIVE_GFLOPS * PI4_SPEEDUP, ramMb: 4096 };

export interface CostModel {
  bandwidthMbit: number;
  /** false for processes on one machine (the local demo): no shared medium */
  sharedMedium: boolean;
  /** also require LOAD_PEAK_FACTOR x all weights at start-up (engines other than the measured onnx one) */
  strictMemory?: boolean;
}

export const DEFAULT_COST_MODEL: CostModel = { bandwidthMbit: DEFAULT_BANDWIDTH_MBIT, sharedMedium: true };

export function usableMb(d: DeviceProfile): number {
  return d.ramMb - OS_RESERVED_MB;
}

/** What a layer (or a range of an imported graph) does per frame: the inputs of the time formula. */
export interface Work {
  macs: number;
  /** input + output bytes read and written (0 for a dense layer, whose time is its weights) */
  activationBytes: number;
  weightBytes: number;
}

/** Seconds for `w` (or its 1/shards slice) on a device; `pages` when the process pages. */
export function workSeconds(w: Work, d: DeviceProfile, shards = 1, pages = false): number {
  const scale = d.gflops / PI3_EFFECTIVE_GFLOPS;
  const compute = (2 * w.macs) / shards / (PI3_PEAK_FLOPS * scale);
  const activations = w.activationBytes / (PI3_ACTIVATION_BW * scale);
  const weights = (w.weightBytes / shards / (PI3_WEIGHT_BW * scale)) * (pages ? PAGING_SLOWDOWN : 1);
  return compute + activations + weights;
}

/** Seconds for one layer (or its 1/shards slice) on a device; `pages` when the process pages. */
export function layerSeconds(l: LayerInfo, d: DeviceProfile, shards = 1, pages = false): number {
  const measured = d.layerSeconds?.[l.layer.name];
  if (measured !== undefined) return (measured / shards) * (pages ? PAGING_SLOWDOWN : 1);
  const activationBytes = l.layer.type === 'dense' ? 0 : size(l.inShape) * FLOAT_BYTES + l.outBytes;
  return workSeconds({ macs: l.macs, activationBytes, weightBytes: l.paramBytes }, d, shards, pages);
}

/** An instance's own work per frame beyond its layers: receiving its full input, sending its slice of the output (copying both once). */
export function ioSeconds(inBytes: number, outBytes: number, d: DeviceProfile): number {
  const scale = d.gflops / PI3_EFFECTIVE_GFLOPS;
  return (2 * HOP_OVERHEAD_S) / scale + (inBytes + outBytes) / (PI3_ACTIVATION_BW * scale);
}

export interface StageCost {
  /** seconds one instance (replica or shard) spends per frame */
  serviceS: number;
  /** the part of serviceS spent in the layers (the engine's run), without receiving and sending */
  computeS: number;
  /** frames per second the stage sustains: replicas / serviceS */
  ips: number;
  /** peak resident MB of one instance, start-up included (stageMemoryMb) */
  memoryMb: number;
  fits: boolean;
  pages: boolean;
  weightsMb: number;
}

/** What one process of a stage holds, in MB: the inputs of the memory model. */
export interface MemoryParts {
  convMb: number;
  /** one shard's slice */
  denseMb: number;
  largestConvLayerMb: number;
  /** the largest input + output pair of one layer */
  activationMb: number;
  /** one frame as received (as float) plus one as sent (one shard's slice) */
  frameMb: number;
}

export function memoryParts(info: StageInfo): MemoryParts {
  const p: MemoryParts = { convMb: 0, denseMb: 0, largestConvLayerMb: 0, activationMb: 0, frameMb: (size(info.inShape) + size(info.outShape)) * FLOAT_BYTES / MB };
  for (const l of info.layers) {
    if (l.layer.type === 'conv') {
      p.convMb += l.paramBytes / MB;
      p.largestConvLayerMb = Math.max(p.largestConvLayerMb, l.paramBytes / MB);
    } else if (l.layer.type === 'dense') p.denseMb += l.paramBytes / info.stage.shards / MB;
    p.activationMb = Math.max(p.activationMb, (size(l.inShape) * FLOAT_BYTES + l.outBytes) / MB);
  }
  return p;
}

/** Peak resident MB of one process: the larger of its load and running peaks (see NODE_RUNTIME_MB). */
export function memoryMbOf(p: MemoryParts, strict = false): number {
  const load = NODE_RUNTIME_MB + p.denseMb + CONV_LOAD_FACTOR * p.convMb + CONV_LAYER_LOAD_FACTOR * p.largestConvLayerMb;
  const run = NODE_RUNTIME_MB + p.denseMb + CONV_RUN_FACTOR * p.convMb + ACTIVATION_FACTOR * p.activationMb + FRAME_FACTOR * p.frameMb;
  const peak = Math.max(load, run);
  return strict ? Math.max(peak, NODE_RUNTIME_MB + LOAD_PEAK_FACTOR * (p.convMb + p.denseMb)) : peak;
}

export function stageMemoryMb(info: StageInfo, cm: CostModel = DEFAULT_COST_MODEL): number {
  return memoryMbOf(memoryParts(info), cm.strictMemory);
}

export function stageCost(info: StageInfo, d: DeviceProfile, cm: CostModel = DEFAULT_COST_MODEL): StageCost {
  const { stage } = info;
  const weightsMb = info.paramBytes / MB;
  const pages = weightsMb > PAGING_THRESHOLD * usableMb(d);
  const memoryMb = stageMemoryMb(info, cm);
  const compute = info.layers.reduce((a, l) => a + layerSeconds(l, d, stage.shards, pages), 0);
  const serviceS = compute + ioSeconds(info.inBytes / stage.shards, info.outBytes / stage.shards, d);
  return { serviceS, computeS: compute, ips: stage.replicas / serviceS, memoryMb, fits: memoryMb <= usableMb(d), pages, weightsMb };
}

/** Bytes crossing the network per frame: sender -> stage 1 -> ... -> sender (a sharded stage gets one copy per shard). */
export function networkBytes(infos: StageInfo[]): number {
  return infos.reduce((a, i) => a + i.inBytes, 0) + infos[infos.length - 1]!.outBytes;
}

/** Time a frame spends on the network: its bytes on the shared air, and one hop more than stages (sender -> ... -> sender). */
export function transferSeconds(bytes: number, stages: number, cm: CostModel): number {
  if (!cm.sharedMedium) return 0;
  return (bytes * AIRTIME_PER_BYTE * 8) / (cm.bandwidthMbit * 1e6) + (stages + 1) * HOP_LATENCY_S;
}

/** Frames per second the shared medium can carry; Infinity without one. */
export function networkIps(bytes: number, cm: CostModel): number {
  if (!cm.sharedMedium) return Infinity;
  return (cm.bandwidthMbit * 1e6) / 8 / (bytes * AIRTIME_PER_BYTE);
}

export interface StageEvaluation extends StageCost {
  role: string;
  layers: string[];
  replicas: number;
  shards: number;
  device: string;
  /** bytes this stage receives per frame (all shards) */
  inBytes: number;
}

export interface Evaluation {
  model: string;
  stages: StageEvaluation[];
  /** nodes plus the sender, as the paper counts devices */
  devices: number;
  networkBytesPerFrame: number;
  networkIps: number;
  /** min over stages and the network */
  predictedIps: number;
  /** one frame through an empty pipeline: every stage's service time plus every transfer and hop */
  latencyS: number;
  fitsMemory: boolean;
  bottleneck: { kind: 'stage' | 'network'; role?: string; why: string };
}

/** The predicted behaviour of a topology; `devices` gives each stage's device (default: all the same). */
export function evaluateTopology(model: string, stages: StageSpec[], cm: CostModel = DEFAULT_COST_MODEL, devices: DeviceProfile | DeviceProfile[] = PI3): Evaluation {
  const spec = loadModelSpec(model);
  const infos = stageInfos(spec, stages);
  const per = infos.map((info, i) => {
    const d = Array.isArray(devices) ? devices[i]! : devices;
    return { ...stageCost(info, d, cm), role: info.stage.role, layers: info.stage.layers, replicas: info.stage.replicas, shards: info.stage.shards, device: d.name, inBytes: info.inBytes };
  });
  return evaluationOf(model, per, networkBytes(infos), cm);
}

/** The evaluation of costed stages whose frames put `bytes` on the network: the slowest stage or the network bounds it. */
export function evaluationOf(model: string, per: StageEvaluation[], bytes: number, cm: CostModel): Evaluation {
  const net = networkIps(bytes, cm);
  const worst = per.reduce((a, s) => (s.ips < a.ips ? s : a));
  const predictedIps = Math.min(worst.ips, net);
  const latencyS = per.reduce((a, s) => a + s.serviceS, 0) + transferSeconds(bytes, per.length, cm);
  const bottleneck =
    net < worst.ips
      ? { kind: 'network' as const, why: `the shared medium carries ${(bytes / MB).toFixed(2)} MB per frame (x${AIRTIME_PER_BYTE} airtime through the access point) at ${cm.bandwidthMbit} Mbit/s: ${net.toFixed(2)} frames/s at most` }
      : { kind: 'stage' as const, role: worst.role, why: stageWhy(worst) };
  return {
    model,
    stages: per,
    devices: processCount(per) + 1,
    networkBytesPerFrame: bytes,
    networkIps: net,
    predictedIps,
    latencyS,
    fitsMemory: per.every((s) => s.fits),
    bottleneck,
  };
}

function stageWhy(s: StageEvaluation): string {
  const parts = [`${s.role} needs ${(s.serviceS * 1000).toFixed(0)} ms per frame on a ${s.device}`];
  if (s.shards > 1) parts.push(`per shard of ${s.shards}`);
  parts.push(`with ${s.replicas} replica${s.replicas > 1 ? 's' : ''}: ${s.ips.toFixed(2)} frames/s`);
  if (s.pages) parts.push(`(its ${s.weightsMb.toFixed(0)} MB of weights make the device page)`);
  return parts.join(' ');
}

/** Layer infos of a model, cached by name for the planner's inner loop. */
const infoCache = new Map<string, LayerInfo[]>();
export function modelLayers(model: string): LayerInfo[] {
  let hit = infoCache.get(model);
  if (!hit) infoCache.set(model, (hit = layerInfos(loadModelSpec(model))));
  return hit;
}
