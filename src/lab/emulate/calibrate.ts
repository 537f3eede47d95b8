// Calibration of the CPU quota: the quota is not assumed from clock rates, it is measured. Time one
// layer unthrottled on one core (this machine's per-core speed, from the CPU time of the runs: on a
// shared machine the wall time includes waiting for others), set the quota to
// profile GFLOPS / per-core GFLOPS, then time the same layer inside a group with that quota and
// report the speed achieved (wall time, what a pipeline sees) against the profile's.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLimitGroup, execInGroup, type CgroupLayout, detectCgroups } from './cgroup.js';
import { loadModelSpec } from '../../model/spec.js';
import type { PiProfile } from './profiles.js';
import { periodUsFor, quotaCores } from './quota.js';

export interface LayerTiming {
  gflop: number;
  ms: number[];
  cpuMs: number[];
  medianMs: number;
  medianCpuMs: number;
  /** medianMs: mean wall ms per run; per wall second */
  gflops: number;
  /** per CPU second of the fastest run: the speed of one core of this machine when the process runs */
  cpuGflops: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const WORKER = fileURLToPath(new URL('./measure-worker.js', import.meta.url));

/**
 * Times `layer` in a child process (argv optionally wrapped, e.g. to start it in a cgroup); a
 * stage's layers joined by commas time the stage (one shard of it with `shards`).
 */
export function timeLayer(model: string, layer: string, repeats: number, wrap: (cmd: string[]) => string[] = (c) => c, shards = 1): Promise<LayerTiming> {
  const [file, ...args] = wrap([process.execPath, WORKER, model, layer, String(repeats), '1', String(shards)]);
  return new Promise((resolve, reject) => {
    execFile(file!, args, { timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`timing ${model}/${layer} failed: ${err.message}\n${stderr}`));
      const { ms, cpuMs, gflop } = JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number[]; cpuMs: number[]; gflop: number };
      // Throughput over all runs (not the median run): back-to-back runs average out where each
      // run falls within the quota's period.
      const m = ms.reduce((a, b) => a + b, 0) / ms.length;
      const c = median(cpuMs);
      // the core's own speed from the fastest run: a busy neighbour only ever makes a run's CPU
      // time longer (shared caches, memory, turbo), and a speed measured low gives a quota too
      // large, an emulated Pi faster than its profile (a median made one 1.35x in CI)
      resolve({ gflop, ms, cpuMs, medianMs: m, medianCpuMs: c, gflops: gflop / (m / 1000), cpuGflops: gflop / (Math.min(...cpuMs) / 1000) });
    });
  });
}

export interface Calibration {
  profile: string;
  /** the profile's speed for this kind of layer (conv or dense) */
  profileGflops: number;
  model: string;
  layer: string;
  /** this machine, one core, no quota */
  unthrottled: LayerTiming;
  /** fraction of one core given to an emulated host */
  quotaCores: number;
  /** the same layer under that quota */
  throttled: LayerTiming;
  /** achieved / profile GFLOPS */
  ratio: number;
  throttledPeriods: number;
  periodUs: number;
}

/** This machine's per-core speeds (CPU time): a VGG16 conv layer and a dense layer. */
export async function measureMachine(repeats = 3): Promise<{ conv: LayerTiming; dense: LayerTiming; speeds: { gflops: number; denseGflops: number } }> {
  const conv = await timeLayer('vgg16', 'conv3_1', repeats);
  // fc2 takes ~5 ms and, memory-bound, varies with the neighbours' memory traffic: many runs
  const dense = await timeLayer('vgg16', 'fc2', repeats * 10);
  return { conv, dense, speeds: { gflops: conv.cpuGflops, denseGflops: dense.cpuGflops } };
}

export interface CalibrateOptions {
  model?: string;
  layer?: string;
  repeats?: number;
  layout?: CgroupLayout;
}

export async function calibrate(profile: PiProfile, opts: CalibrateOptions = {}): Promise<Calibration> {
  const model = opts.model ?? 'vgg16';
  const layer = opts.layer ?? 'conv3_1';
  const repeats = opts.repeats ?? 5;
  const unthrottled = await timeLayer(model, layer, repeats);
  // A dense layer is held to the profile's dense speed, a conv layer to its conv speed.
  const dense = loadModelSpec(model).layers.find((l) => l.name === layer)?.type === 'dense';
  const target = dense ? profile.denseGflops : profile.gflops;
  const quota = quotaCores(target, unthrottled.cpuGflops);
  const group = createLimitGroup(`calibrate-${process.pid}`, { cpuCores: quota, periodUs: periodUsFor(quota) }, opts.layout ?? detectCgroups());
  try {
    const throttled = await timeLayer(model, layer, repeats, (cmd) => execInGroup(group, cmd));
    return {
      profile: profile.name,
      profileGflops: target,
      model,
      layer,
      unthrottled,
      quotaCores: quota,
      throttled,
      ratio: throttled.gflops / target,
      throttledPeriods: group.cpuThrottling().throttled,
      periodUs: periodUsFor(quota),
    };
  } finally {
    await group.remove();
  }
}
