// The live musical chair on this machine: every device is a name (dev1, dev2, ...) and a node
// process per device of the topology, as in the local demo. `lose` plays a device that loses its
// power: its processes get SIGKILL (the kernel resets their connections: refused at once) and it
// cannot be used until `back`; `silence` one that goes quiet (SIGSTOP: connections open, no
// answer, as a cut link); `throttle` plays a device that slows down (heat, a weak supply): its processes go into
// a cgroup with a CPU quota, and so do the ones started on it later. The controller is not told:
// it finds all of it out by itself, as on a farm.
import type { Balance } from '../runtime/config.js';
import type { StageSpec } from '../model/spec.js';
import type { Deployment, ElasticDriver } from '../elastic/driver.js';
import { launchLocalFarm, type LocalFarm } from './local-launch.js';
import { processName } from '../runtime/process-name.js';
import { createLimitGroup, execInGroup, type LimitGroup } from './emulate/cgroup.js';
import { EmulatedQuotas, type QuotaRule } from './elastic-quotas.js';
import type { NodeConfig } from '../runtime/config.js';

export interface LocalElasticOptions {
  model: string;
  engine: 'onnx' | 'tfjs';
  threads: number;
  seed: number;
  balance?: Balance;
  senderPort: number;
  devices: number;
  echo?: boolean;
  /**
   * emulated Pis (elastic-quotas.ts): per stage of a topology, the fraction of one core each of
   * its processes gets, from this machine's speed or from the stage's measured CPU per frame
   */
  cpuQuotas?: QuotaRule;
  /** where the emulated quotas are told */
  log?: (m: string) => void;
  /** each node's failover timeout for its next stage (NodeConfig.failTimeoutMs) */
  failTimeoutMs?: number;
}

export class LocalElasticDriver implements ElasticDriver {
  maxMessageBytes = 16 << 20;
  private readonly names: string[];
  private readonly down = new Set<string>();
  private readonly running: { farm: LocalFarm; devices: string[] }[] = [];
  private readonly groups = new Map<string, LimitGroup>();
  private serial = 0;

  constructor(private readonly o: LocalElasticOptions) {
    this.names = Array.from({ length: o.devices }, (_, i) => `dev${i + 1}`);
  }

  devices(): string[] {
    return this.names;
  }

  async reachable(device: string): Promise<boolean> {
    return this.names.includes(device) && !this.down.has(device);
  }

  async deploy(stages: StageSpec[], devices: string[]): Promise<Deployment> {
    const o = this.o;
    let i = 0;
    const emulated = o.cpuQuotas ? new EmulatedQuotas(o.model, `pifarm-elastic-${process.pid}-${this.serial++}`, stages, o.cpuQuotas, o.log) : undefined;
    // a throttled device's new processes start inside its group (configs come in device order)
    const command = (cfg: NodeConfig, argv: string[]) => {
      const g = this.groups.get(devices[i++]!);
      return emulated ? emulated.command(cfg, argv) : g ? execInGroup(g, argv) : argv;
    };
    let farm: LocalFarm;
    try {
      farm = await launchLocalFarm({ model: o.model, stages, engine: o.engine, threads: o.threads, seed: o.seed, balance: o.balance, echo: o.echo, senderPort: o.senderPort, command, tweak: (cfg) => void (o.failTimeoutMs && (cfg.failTimeoutMs = o.failTimeoutMs)) });
    } catch (e) {
      await emulated?.remove();
      throw e;
    }
    await emulated?.start(farm);
    this.maxMessageBytes = farm.maxMessageBytes;
    const entry = { farm, devices };
    this.running.push(entry);
    return {
      stages,
      first: farm.first,
      nodes: farm.nodes.map((n, i) => ({ name: processName({ role: n.config.role, replica: n.config.replica, shard: n.config.shard.index }, n.config.shard.count), role: n.config.role, device: devices[i]!, endpoint: n.config.listen })),
      stats: () => farm.stats(),
      stop: async () => {
        this.running.splice(this.running.indexOf(entry), 1);
        await farm.stop();
        await emulated?.remove();
      },
    };
  }

  /** The device of a role's first process in the newest topology (what `--lose block1@...` means). */
  deviceOf(role: string): string | undefined {
    const last = this.running[this.running.length - 1];
    const i = last?.farm.nodes.findIndex((n) => n.config.role === role) ?? -1;
    return i >= 0 ? last!.devices[i] : undefined;
  }

  /** The device loses its power: every process on it is killed, and it stays unusable until back(). */
  lose(device: string): void {
    this.down.add(device);
    this.signal(device, 'SIGKILL');
  }

  /**
   * The device goes quiet, as a Pi whose link is cut without a FIN: its processes are stopped
   * (SIGSTOP: their connections stay open, nothing answers); back() finds them rebooted (killed).
   */
  silence(device: string): void {
    this.down.add(device);
    this.signal(device, 'SIGSTOP');
  }

  back(device: string): void {
    this.signal(device, 'SIGKILL');
    this.down.delete(device);
  }

  private signal(device: string, sig: NodeJS.Signals): void {
    for (const r of this.running) r.farm.nodes.forEach((n, i) => r.devices[i] === device && n.child.exitCode === null && n.child.kill(sig));
  }

  /** The device slows down to `cores` of one core (root and a cgroup cpu controller needed). */
  throttle(device: string, cores: number): void {
    if (this.o.cpuQuotas) throw new Error('an emulated farm has its CPU quotas already: throttle a device of a local farm');
    let g = this.groups.get(device);
    if (!g) this.groups.set(device, (g = createLimitGroup(`pifarm-elastic-${process.pid}-${device}`, {})));
    g.setCpuLimit(cores);
    for (const r of this.running) r.farm.nodes.forEach((n, i) => r.devices[i] === device && n.child.pid && n.child.exitCode === null && g!.addPid(n.child.pid));
  }

  /** Removes the throttling groups (every process has stopped). */
  async close(): Promise<void> {
    for (const g of this.groups.values()) await g.remove().catch(() => {});
    this.groups.clear();
  }
}
