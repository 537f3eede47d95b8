// Energy per inference the way the paper computes it (Figs. 5-6): static energy is every device's
// idle power over the time one frame takes at the farm's throughput (1 / IPS), dynamic energy is
// the extra power of a busy device over the time it spends computing that frame.
// Checked against the paper: AlexNet on 5 Pis at 4.33 IPS, 1.3 W idle -> 5 x 1.3 / 4.33 = 1.50 J.
import type { PowerSpec } from '../inventory/types.js';
import type { RunResult } from './types.js';
import { busyMsPerFrameByHost } from './figures.js';

export interface Energy {
  staticJ: number;
  dynamicJ: number;
  totalJ: number;
}

export interface EnergyInput {
  /** farm throughput, frames per second */
  ips: number;
  /** every device of the farm, the sender included, with its power figures */
  devices: { host: string; power: PowerSpec }[];
  /** compute time per frame on each host (all processes of that host together) */
  busyMsPerFrame: Map<string, number>;
}

export class EnergyError extends Error {}

export function energyPerInference(input: EnergyInput): Energy {
  if (!(input.ips > 0)) throw new EnergyError(`energy needs a positive IPS, got ${input.ips}`);
  const frameS = 1 / input.ips;
  const power = new Map(input.devices.map((d) => [d.host, d.power]));
  let staticJ = 0;
  for (const d of input.devices) staticJ += d.power.idleW * frameS;
  let dynamicJ = 0;
  for (const [host, ms] of input.busyMsPerFrame) {
    const p = power.get(host);
    if (!p) throw new EnergyError(`host "${host}" computed frames but has no power figures; give it power: {idleW, busyW} in the inventory`);
    dynamicJ += Math.max(0, p.busyW - p.idleW) * (ms / 1000);
  }
  return { staticJ, dynamicJ, totalJ: staticJ + dynamicJ };
}

/**
 * Energy of a finished run. Busy time per host comes from the frame traces when the run kept them,
 * else from each stage's mean service time spread over its hosts (every frame visits one replica
 * and every shard of a stage). `senderHost` counts as a device (idle power only, as in the paper).
 */
export function energyOfRun(r: RunResult, powerOf: (host: string) => PowerSpec | undefined, senderHost = 'sender'): Energy {
  let busy = r.timeline && r.timeline.length > 0 ? busyMsPerFrameByHost(r.timeline) : new Map<string, number>();
  if (busy.size === 0) {
    busy = new Map();
    for (const s of r.stages) {
      const hosts = s.hosts && s.hosts.length > 0 ? s.hosts : [`${s.role}`];
      const perFrame = s.serviceMs * s.shards;
      for (const h of hosts) busy.set(h, (busy.get(h) ?? 0) + perFrame / hosts.length);
    }
  }
  const hosts = new Set<string>([senderHost, ...busy.keys(), ...r.stages.flatMap((s) => s.hosts ?? [])]);
  const devices = [...hosts].map((host) => {
    const power = powerOf(host);
    if (!power) throw new EnergyError(`no power figures for host "${host}"; give it power: {idleW, busyW} in the inventory or emulate a profile`);
    return { host, power };
  });
  return energyPerInference({ ips: r.ips, devices, busyMsPerFrame: busy });
}
