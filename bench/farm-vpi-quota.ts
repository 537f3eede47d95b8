// The CPU quota of each virtual Pi, as `pifarm bench farm` sets it for a local process
// (farm/bench-farm.ts): before any quota, a warm-up through the whole farm, then a calibration of
// frames one at a time whose CPU time per frame each node reports; from that and this machine's
// measured speeds, each stage's quota (its layers held to the cost model's Pi time, the runtime's
// own work to the profile's runtime slowdown). A container gets the quotas of the nodes it runs
// (plus --headroom) on its whole process tree.
//
// The warm-up is also what opens every connection between stages: a node connects to the next
// stage when it sends its first output, and the farm-secret handshake must be answered within
// 5 s (runtime/auth.ts), which a node at a Pi's speed, already busy with its next 8 s frame,
// does not do (the connection and the frames sent on it were lost). Unthrottled, it is quick.
import { cpus } from 'node:os';
import { measureMachine } from '../src/lab/emulate/calibrate.js';
import { periodUsFor, quotaFits, type Speeds } from '../src/lab/emulate/quota.js';
import type { PiProfile } from '../src/lab/emulate/profiles.js';
import { calibrateStageQuotas } from '../src/lab/bench-quota.js';
import type { StageSpec } from '../src/model/spec.js';
import type { NodeStats } from '../src/runtime/protocol.js';
import type { SenderReport } from '../src/runtime/sender.js';
import type { FarmNode, HostGroup } from './farm-vpi-hosts.js';

export interface Quotas {
  speeds: Speeds;
  /** per stage: CPU seconds per frame here, unthrottled */
  cpuSeconds: (number | undefined)[];
  /** per stage: fraction of one core per process */
  perStage: number[];
  /** per host: the group's quota (its processes' quotas plus the headroom) */
  perHost: Map<string, number>;
  fit: { ok: boolean; message: string };
}

export interface QuotaOptions {
  model: string;
  stages: StageSpec[];
  profile: PiProfile;
  nodes: FarmNode[];
  groups: HostGroup[];
  /** extra cores per container */
  headroom: number;
  stats(): Promise<NodeStats[]>;
  stream(frames: number, window: number, idBase: number): Promise<SenderReport>;
  log(m: string): void;
}

export async function calibrateQuotas(o: QuotaOptions): Promise<Quotas> {
  const m = await measureMachine();
  o.log(`this machine ${m.speeds.gflops.toFixed(1)} / ${m.speeds.denseGflops.toFixed(2)} GFLOPS per core (conv / dense); ${o.profile.name} ${o.profile.gflops.toFixed(2)} / ${o.profile.denseGflops.toFixed(3)}`);
  const { cpuSeconds, quotas: perStage } = await calibrateStageQuotas({ model: o.model, stages: o.stages, profile: o.profile, machine: m.speeds, stats: o.stats, stream: o.stream, log: o.log });
  const perHost = new Map<string, number>();
  for (const n of o.nodes) perHost.set(n.host, (perHost.get(n.host) ?? o.headroom) + perStage[o.stages.findIndex((s) => s.role === n.role)]!);
  for (const g of o.groups) {
    const q = perHost.get(g.host);
    if (q !== undefined) g.group.setCpuLimit(q, periodUsFor(q));
  }
  const total = [...perHost.values()].reduce((a, q) => a + q, 0);
  const fit = quotaFits(total / perHost.size, perHost.size, cpus().length);
  return { speeds: m.speeds, cpuSeconds, perStage, perHost, fit };
}
