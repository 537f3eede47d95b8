// The same limits for node processes that run as systemd units on virtual Pis: CPUQuota= and
// MemoryMax= (with MemorySwapMax=0, so a stage that does not fit fails instead of swapping), as a
// drop-in for the role's unit or as properties for systemd-run.
import type { Limits } from './cgroup.js';
import { systemdCpuQuota } from './quota.js';

export function systemdProperties(limits: Limits): string[] {
  const props: string[] = [];
  if (limits.cpuCores !== undefined) {
    props.push(`CPUQuota=${systemdCpuQuota(limits.cpuCores)}`);
    // systemd's default period is 100 ms; a shorter one keeps short frames from running fast
    if (limits.periodUs !== undefined) props.push(`CPUQuotaPeriodSec=${Math.round(limits.periodUs / 1000)}ms`);
  }
  if (limits.memoryMb !== undefined) props.push(`MemoryMax=${Math.round(limits.memoryMb)}M`, 'MemorySwapMax=0');
  return props;
}

/** A drop-in file (e.g. /etc/systemd/system/<unit>.d/pifarm-emulate.conf) with the limits. */
export function systemdDropIn(limits: Limits, profileNote: string): string {
  return [`# pifarm: emulated ${profileNote}`, '[Service]', ...systemdProperties(limits), ''].join('\n');
}

/** argv of `systemd-run` starting `cmd` as a transient service with the limits. */
export function systemdRunArgs(unit: string, limits: Limits, cmd: string[]): string[] {
  return ['systemd-run', `--unit=${unit}`, '--collect', ...systemdProperties(limits).flatMap((p) => ['-p', p]), '--', ...cmd];
}
