// `pifarm run --elastic`: the live musical chair's driver for a farm over SSH. Every device is an
// inventory host (one node process each, as the controller plans); every topology it starts is an
// epoch of its own: units `pifarm-node@e<N>-<role>-<r>-<s>` on ports of a bank of their own, so a
// new topology loads beside the old one while that drains, and nothing of the farm's own deployed
// units (`pifarm start`) is touched. The release, the unit file and the secret must be on the hosts
// (`pifarm deploy`); a host that joins the inventory during the run is set up first (elastic-join.ts).
import type { Deployment, DeployedNode, ElasticDriver } from '../elastic/driver.js';
import type { HostSpec } from '../inventory/types.js';
import type { StageSpec } from '../model/spec.js';
import { Peer } from '../runtime/peer.js';
import { processName } from '../runtime/process-name.js';
import type { NodeStats } from '../runtime/protocol.js';
import { firewallStep } from '../provision/firewall.js';
import { hostNodeConfigs } from '../provision/host-engine.js';
import { RUN_USER, SECRET_PATH, configPath, instanceName, unitOf } from '../provision/layout.js';
import { writeRemoteFiles } from '../provision/remote-file.js';
import type { HostPlan, StepContext } from '../provision/types.js';
import { waitReady } from '../provision/wait-ready.js';
import { shq } from '../transport/shell.js';
import type { Transport } from '../transport/transport.js';
import type { Placement } from '../topology/types.js';
import { wireTopology } from '../topology/wiring.js';
import type { FarmOptions } from './options.js';
import type { FarmPlan } from './plan.js';
import { portAnswers } from './probe.js';
import { HostSession } from './session.js';

/**
 * Port banks: epoch N listens in bank N mod BANKS. A move's old topology drains for at most the
 * controller's drain time (10 s) and moves are 5 s apart, so at most three epochs run at once.
 */
const BANKS = 4;
const PORTS_PER_BANK = 64;
/** a command to a host that stopped answering gives up after this; what it left is cleaned later */
const STOP_TIMEOUT_MS = 4000;

export interface SshElasticOptions {
  plan: FarmPlan;
  o: FarmOptions;
  log: (m: string) => void;
}

/** An epoch's instance name: "e3-block1-0-0". */
export const epochInstance = (epoch: number, p: Pick<Placement, 'role' | 'replica' | 'shard'>) => `e${epoch}-${instanceName(p.role, p.replica, p.shard)}`;

/** The first port of the elastic banks: above every port the farm's own units and sender use. */
export function elasticPortBase(plan: Pick<FarmPlan, 'farm'>): number {
  const highest = Math.max(plan.farm.sender.port, ...plan.farm.placements.map((p) => p.port));
  return Math.ceil((highest + 1) / 100) * 100;
}

export class SshElasticDriver implements ElasticDriver {
  maxMessageBytes: number;
  readonly secret: Buffer;
  private readonly hosts: HostSpec[];
  /** per device: the host plan it was deployed with (its bundle, engine, known answers) */
  private readonly templates = new Map<string, HostPlan>();
  private readonly sessions = new Map<string, HostSession>();
  /** per device: instances a stop could not reach (the host was lost): stopped before it is used again */
  private readonly leftovers = new Map<string, string[]>();
  /** per device: ports of the epochs running there, for its firewall */
  private readonly portsInUse = new Map<string, Map<number, number[]>>();
  /** devices being set up (joined the inventory): not usable yet */
  readonly settingUp = new Set<string>();
  private epoch = 0;
  private readonly portBase: number;
  /** stops of epochs whose start was called off, still under way */
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly s: SshElasticOptions) {
    const { plan } = s;
    this.maxMessageBytes = plan.wiring.maxMessageBytes;
    this.secret = Buffer.from(plan.secret, 'hex');
    this.hosts = plan.hosts.filter((h) => !h.local && h.name !== plan.farm.sender.host);
    for (const h of this.hosts) this.templates.set(h.name, plan.plans.get(h.name)!);
    this.portBase = elasticPortBase(plan);
  }

  devices(): string[] {
    return this.hosts.map((h) => h.name);
  }

  /** A host that joined: usable once `ready` (its setup) is done. */
  addDevice(h: HostSpec, template: HostPlan): void {
    if (this.hosts.some((x) => x.name === h.name)) return;
    this.hosts.push(h);
    this.templates.set(h.name, template);
  }

  async reachable(device: string): Promise<boolean> {
    const h = this.hosts.find((x) => x.name === device);
    if (!h || this.settingUp.has(device)) return false;
    // behind a jump host the address is not ours to reach: ask over SSH
    if (h.jump) return this.session(h).t.exec('true', { timeoutMs: 3000 }).then((r) => r.code === 0, () => false);
    return portAnswers(h.address, h.port, 1000);
  }

  async deploy(stages: StageSpec[], devices: string[], signal?: AbortSignal): Promise<Deployment> {
    const epoch = ++this.epoch;
    const placements = this.placementsFor(epoch, stages, devices);
    const { plan } = this.s;
    const addresses: Record<string, string> = { ...Object.fromEntries(this.hosts.map((h) => [h.name, h.address])), local: plan.controlAddress };
    const f = plan.inv.farm;
    const wiring = wireTopology({ model: plan.farm.model, stages, placements, addresses, sender: { host: 'local', port: plan.farm.sender.port }, engine: f.engine, threads: f.threads, seed: f.seed, secretFile: SECRET_PATH });
    this.maxMessageBytes = Math.max(this.maxMessageBytes, wiring.maxMessageBytes);
    const byDevice = new Map<string, { instance: string; config: (typeof wiring.nodes)[number] }[]>();
    placements.forEach((p, i) => byDevice.set(p.host, [...(byDevice.get(p.host) ?? []), { instance: epochInstance(epoch, p), config: wiring.nodes[i]! }]));
    const starts = [...byDevice].map(([device, nodes]) => this.startOn(device, epoch, nodes, signal));
    const outcomes = await untilAborted(Promise.allSettled(starts), signal);
    const failed = outcomes ? outcomes.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : [])) : [String(signal!.reason)];
    const nodes: DeployedNode[] = placements.map((p, i) => ({ name: processName(p, stages[p.stageIndex]!.shards), role: p.role, device: p.host, endpoint: { host: addresses[p.host]!, port: wiring.nodes[i]!.listen.port } }));
    const stop = () => this.stopEpoch(epoch, byDevice);
    if (failed.length) {
      // stopped once every start settled: a start still under way would start its units after the stop
      const stopping = Promise.allSettled(starts).then(stop);
      this.background.add(stopping);
      void stopping.finally(() => this.background.delete(stopping));
      if (outcomes) await stopping;
      throw new Error(`epoch ${epoch} did not start: ${failed.join('; ')}`);
    }
    return { stages, first: wiring.first, nodes, stats: () => this.stats(nodes), stop };
  }

  /** One process per device, in the order of the stages, replicas and shards; ports in the epoch's bank. */
  private placementsFor(epoch: number, stages: StageSpec[], devices: string[]): Placement[] {
    const out: Placement[] = [];
    const bank = this.portBase + (epoch % BANKS) * PORTS_PER_BANK;
    stages.forEach((s, stageIndex) => {
      for (let replica = 0; replica < s.replicas; replica++) for (let shard = 0; shard < s.shards; shard++) out.push({ host: devices[out.length]!, role: s.role, stageIndex, replica, shard, port: bank + out.length });
    });
    if (out.length > devices.length || out.length > PORTS_PER_BANK) throw new Error(`${out.length} node processes for ${devices.length} device(s): one each (at most ${PORTS_PER_BANK})`);
    return out;
  }

  private session(h: HostSpec): HostSession {
    let s = this.sessions.get(h.name);
    if (!s) this.sessions.set(h.name, (s = new HostSession(this.s.plan.inv, h, this.templates.get(h.name)!, this.s.o)));
    return s;
  }

  /** A host that did not answer: its connection is dropped (a new one next time), not waited for. */
  private forget(device: string): void {
    const s = this.sessions.get(device);
    this.sessions.delete(device);
    void s?.close().catch(() => {});
  }

  private async context(device: string, plan: HostPlan): Promise<StepContext> {
    const h = this.hosts.find((x) => x.name === device)!;
    const ctx = await this.session(h).context((m) => this.s.log(`${device}: ${m}`));
    return { ...ctx, plan };
  }

  /** Writes the epoch's configs on the device, starts its units and waits until they gave their known answers. */
  private async startOn(device: string, epoch: number, nodes: HostPlan['nodes'], signal?: AbortSignal): Promise<void> {
    const ports = new Map(this.portsInUse.get(device) ?? []);
    ports.set(epoch, nodes.map((n) => n.config.listen.port));
    const template = this.templates.get(device)!;
    const peers = [...new Set([...this.hosts.map((h) => h.address), this.s.plan.controlAddress])].filter((a) => a !== this.hosts.find((h) => h.name === device)!.address);
    const plan: HostPlan = { ...template, nodes, peers, ports: [...template.ports, ...[...ports.values()].flat()] };
    const ctx = await this.context(device, plan);
    await this.stopLeftovers(device, ctx.t);
    // the epoch's ports, with the host's own and the ports of epochs still draining there
    if (ctx.facts.ufwActive || ctx.facts.nftActive) await firewallStep.run(ctx);
    const configs = await hostNodeConfigs(ctx);
    await writeRemoteFiles(ctx.t, configs.map((c) => ({ path: configPath(c.instance), content: JSON.stringify(c.config, null, 2) + '\n', mode: 0o640, group: RUN_USER })));
    this.portsInUse.set(device, ports);
    if (signal?.aborted) throw new Error(`${device}: ${String(signal.reason)}`);
    const units = nodes.map((n) => shq(unitOf(n.instance))).join(' ');
    // started, not enabled: an epoch lives for one run; a reboot brings back the farm's own units
    const r = await ctx.t.exec(`systemctl start ${units}`, { sudo: true, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${device}: systemctl start ${units}: ${r.stderr.trim() || `exit ${r.code}`}`);
    await waitReady(ctx, nodes.map((n) => n.instance), signal);
  }

  private async stopEpoch(epoch: number, byDevice: Map<string, HostPlan['nodes']>): Promise<void> {
    await Promise.all([...byDevice].map(async ([device, nodes]) => {
      const instances = nodes.map((n) => n.instance);
      this.portsInUse.get(device)?.delete(epoch);
      const h = this.hosts.find((x) => x.name === device)!;
      try {
        const r = await this.session(h).t.exec(stopCommand(instances), { sudo: true, timeoutMs: STOP_TIMEOUT_MS });
        if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
      } catch (e) {
        this.s.log(`elastic: ${device}: could not stop ${instances.join(', ')} (${(e as Error).message}); they are stopped when ${device} is used again or the run ends`);
        this.leftovers.set(device, [...(this.leftovers.get(device) ?? []), ...instances]);
        this.forget(device);
      }
    }));
  }

  private async stopLeftovers(device: string, t: Transport): Promise<void> {
    const left = this.leftovers.get(device);
    if (!left?.length) return;
    const r = await t.exec(stopCommand(left), { sudo: true, timeoutMs: STOP_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`${device}: stopping ${left.join(', ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
    this.leftovers.delete(device);
    this.s.log(`elastic: ${device}: stopped ${left.join(', ')}, left from before it was lost`);
  }

  private async stats(nodes: DeployedNode[]): Promise<NodeStats[]> {
    const asked = await Promise.allSettled(nodes.map(async (n) => {
      const peer = new Peer(n.endpoint, this.maxMessageBytes, () => {}, this.secret);
      try {
        return await peer.stats(2000);
      } finally {
        peer.close();
      }
    }));
    return asked.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  }

  /** After the last topology stopped: what lost hosts kept running is stopped where they answer again. */
  async close(): Promise<void> {
    await Promise.all(this.background);
    await Promise.all([...this.leftovers].map(async ([device]) => {
      const h = this.hosts.find((x) => x.name === device)!;
      if (!(await this.reachable(device))) return this.s.log(`elastic: ${device} is still lost: ${this.leftovers.get(device)!.join(', ')} will stop with the next pifarm deploy or start there`);
      await this.stopLeftovers(device, this.session(h).t).catch((e: Error) => this.s.log(`elastic: ${e.message}`));
    }));
    await Promise.all([...this.sessions.values()].map((s) => s.close().catch(() => {})));
    this.sessions.clear();
  }
}

/** The promise's value, or undefined as soon as the signal aborts (what it started goes on and is stopped after). */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Stops an epoch's units and removes their configs (a stopped epoch is never started again). */
function stopCommand(instances: string[]): string {
  return `systemctl stop ${instances.map((i) => shq(unitOf(i))).join(' ')}; rm -f ${instances.map((i) => shq(configPath(i))).join(' ')}`;
}
