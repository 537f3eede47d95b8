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

/** CPUQuota= for a systemd unit: percent of one CPU, two decimals (systemd >= 249 parses them). */
export function systemdCpuQuota(cores: number): string {
  return `${Math.max(0.01, Math.round(cores * 10000) / 100)}%`;
}

/**
 * CFS period for a quota. A process that idles between frames starts each frame with a full
 * period's quota, so a frame shorter than a few periods runs faster than the profile: periods are
 * kept short (10 ms), but long enough that the quota is at least the kernel's 1 ms minimum.
 */
export function periodUsFor(cores: number): number {
  return Math.min(1_000_000, Math.max(10_000, Math.ceil(1000 / Math.min(cores, 1) / 1000) * 1000));
}

export interface LayerWork {
  /** FLOPs (2 x MACs) per frame of this process's part of the layer */
  flop: number;
  dense: boolean;
}

/** Speeds of one kind of device: conv layers (compute-bound) and dense layers (memory-bound). */
export interface Speeds {
  gflops: number;
  denseGflops: number;
}

/**
 * The quota for a process running `layers`: its time per frame here (one core, from the measured
 * conv and dense speeds) over its time on the profile's Pi. A conv-only stage gets
 * profile/machine conv speed; a dense stage the dense ratio, so fc layers are not emulated with the
 * conv layers' factor (this machine's memory is relatively much faster than a Pi's).
 */
export function stageQuotaCores(layers: LayerWork[], profile: Speeds, machine: Speeds): number {
  const time = (s: Speeds) => layers.reduce((a, l) => a + l.flop / 1e9 / (l.dense ? s.denseGflops : s.gflops), 0);
  const pi = time(profile);
  if (!(pi > 0)) return quotaCores(profile.gflops, machine.gflops);
  return time(machine) / pi;
}
