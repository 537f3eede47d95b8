// From speeds to CPU quotas: an emulated host computing at `profileGflops` gets that share of one
// core of this machine, whose single-core speed was measured (calibrate.ts), never assumed.

export class QuotaError extends Error {}

/** Fraction of one core (can exceed 1 for a profile faster than one core here). */
export function quotaCores(profileGflops: number, perCoreGflops: number): number {
  if (!(profileGflops > 0)) throw new QuotaError(`profile speed must be > 0 GFLOPS, got ${profileGflops}`);
  if (!(perCoreGflops > 0)) throw new QuotaError(`measured per-core speed must be > 0 GFLOPS, got ${perCoreGflops}`);
  return profileGflops / perCoreGflops;
}

/**
 * Whether `hosts` emulated hosts at `cores` each fit this machine: the emulation is only faithful
 * while the quotas together stay below the cores actually free (others share this machine).
 */
export function quotaFits(cores: number, hosts: number, machineCores: number, headroom = 0.85): { ok: boolean; total: number; message: string } {
  const total = cores * hosts;
  const limit = machineCores * headroom;
  const ok = total <= limit;
  return {
    ok,
    total,
    message: ok
      ? `${hosts} emulated hosts x ${(cores * 100).toFixed(1)}% of a core = ${total.toFixed(2)} cores of ${machineCores}`
      : `${hosts} emulated hosts x ${(cores * 100).toFixed(1)}% of a core = ${total.toFixed(2)} cores, more than ${limit.toFixed(2)} of this machine's ${machineCores}: hosts would wait for each other's CPU and run slower than the profile; use fewer hosts or a slower profile`,
  };
}

/**
 * CPU time an emulated host may use per CFS period. The kernel lets each CPU keep up to 1 ms of a
 * group's runtime as slack (min_cfs_rq_runtime), so a process that hops between this machine's
 * cores runs over a 1 ms quota by up to 2x; with 10 ms per period it keeps within a few percent
 * (`pifarm emulate calibrate` prints achieved against asked). A busy loop that stays on one core
 * keeps to any quota exactly.
 */
export const QUOTA_PER_PERIOD_US = 10_000;

/**
 * CFS period for a quota: long enough that the quota per period is QUOTA_PER_PERIOD_US, at least
 * 10 ms, at most the kernel's 1 s. The price of long periods is burstiness: a process that idles
 * starts with a whole period's quota, so a stage that is not the bottleneck may run a short frame
 * faster than the profile; the bottleneck stage, always busy, gets exactly its share.
 */
export function periodUsFor(cores: number): number {
  return Math.min(1_000_000, Math.max(10_000, Math.ceil(QUOTA_PER_PERIOD_US / cores / 1000) * 1000));
}

export interface LayerWork {
  /** FLOPs (2 x MACs) per frame of this process's part of the layer */
  flop: number;
  dense: boolean;
  /** seconds this part of the layer takes on the emulated device, where known (the cost model's time); else flop / the profile's speed */
  piSeconds?: number;
}

/** Speeds of one kind of device: conv layers (compute-bound) and dense layers (memory-bound). */
export interface Speeds {
  gflops: number;
  denseGflops: number;
}

/**
 * The quota for a process running `layers`: its time per frame here (one core, from the measured
 * conv and dense speeds) over its time on the profile's Pi; with `runtime`, the runtime's own
 * measured work per frame is added to both sides at its own ratio. A conv-only stage gets
 * profile/machine conv speed; a dense stage the dense ratio, so fc layers are not emulated with the
 * conv layers' factor (this machine's memory is relatively much faster than a Pi's).
 */
export function stageQuotaCores(layers: LayerWork[], profile: Speeds, machine: Speeds, runtime?: RuntimeWork): number {
  const time = (s: Speeds) => layers.reduce((a, l) => a + l.flop / 1e9 / (l.dense ? s.denseGflops : s.gflops), 0);
  const pi = layers.every((l) => l.piSeconds !== undefined) ? layers.reduce((a, l) => a + l.piSeconds!, 0) : time(profile);
  if (!(pi > 0)) return quotaCores(profile.gflops, machine.gflops);
  const here = time(machine);
  if (!runtime) return here / pi;
  // The runtime's own work per frame (receiving, decoding, merging, encoding, sending: scalar code)
  // is what the measured CPU time holds beyond the layers; on the Pi it takes `slowdown` times as
  // long, not the layers' ratio (up to 40x for dense layers, whose speed here is memory-bound).
  // The measured CPU time is the truth for the numerator; the speeds here only split it into
  // layers and runtime (a layer estimate above the measurement means no runtime work to add).
  const extra = Math.max(0, runtime.cpuSecondsPerFrame - here);
  return runtime.cpuSecondsPerFrame / (pi + extra * runtime.slowdown);
}

/** The measured CPU time per frame of a stage's process here, and how much slower a Pi runs scalar code. */
export interface RuntimeWork {
  cpuSecondsPerFrame: number;
  slowdown: number;
}
