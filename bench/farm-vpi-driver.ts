// The benchmark driver for virtual Pis (src/lab/bench-run.ts does the rest): boot one container per
// node process, hold each container's whole process tree in one group with the Pi's RAM less the
// OS (its own OS counts inside, as on a Pi), provision, deploy and start the farm over SSH, wait
// until every node has loaded, and after the calibration give each container the quotas of the
// nodes it runs (plus --headroom) and the shared Wi-Fi medium on the bridge.
//
// The calibration runs before any quota, and is also what opens every connection between stages: a
// node connects to the next stage when it sends its first output, and the farm-secret handshake
// must be answered within 5 s (runtime/auth.ts), which a node at a Pi's speed, busy with its next
// 8 s frame, does not do. Unthrottled, it is quick.
import { cpus, tmpdir } from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../src/lab/vpi/harness.js';
import { BRIDGE } from '../src/lab/vpi/cleanup.js';
import { writeInventory } from '../src/lab/vpi/inventory.js';
import type { BenchDriver, CpuLimits, SenderPorts } from '../src/lab/bench-run.js';
import type { Phases } from '../src/lab/phases.js';
import type { PiProfile } from '../src/lab/emulate/profiles.js';
import { applyNetEmulation, removeNetEmulation } from '../src/lab/emulate/network.js';
import { removeStaleGroups } from '../src/lab/emulate/cgroup.js';
import { periodUsFor, quotaFits } from '../src/lab/emulate/quota.js';
import { processCount, type StageSpec } from '../src/model/spec.js';
import { simpleCommand, type FarmOutcome } from '../src/farm/commands.js';
import { planFarm } from '../src/farm/plan.js';
import { projectRoot, type FarmOptions } from '../src/farm/options.js';
import { buildBundle } from '../src/provision/bundle.js';
import type { NodeStats } from '../src/runtime/protocol.js';
import { OS_RESERVED_MB } from '../src/topology/cost-model.js';
import { farmNodes, groupMemory, limitContainers, nodeStats, peerTrouble, removeGroupsSync, removeNetEmulationSync, waitLoaded, type FarmNode, type HostGroup } from './farm-vpi-hosts.js';

export interface VpiBenchOptions {
  runId: string;
  model: string;
  stages: StageSpec[];
  /** the inventory's farm.topology: a preset name or a topology file */
  topologyRef: string;
  profile: PiProfile;
  /** the shared medium, Mbit/s */
  rateMbit: number;
  /** extra cores per container beyond its nodes' quotas */
  headroom: number;
  /** leave the virtual Pis running (without their CPU quota) */
  keep: boolean;
  /** work folder: inventory, state, logs */
  dir: string;
  say: (m: string) => void;
}

function failIfFailed(r: FarmOutcome): void {
  if (!r.failed.length) return;
  const why = r.runs.filter((h) => h.failed).map((h) => `  ${h.host}: ${h.results.filter((s) => s.status === 'failed').map((s) => `${s.step}: ${s.detail ?? ''}`).join('; ')}`);
  throw new Error(`${r.command} failed on ${r.failed.join(', ')}:\n${why.join('\n')}`);
}

export class VpiDriver implements BenchDriver {
  private pis: VirtualPis | undefined;
  private groups: HostGroup[] = [];
  private nodes: FarmNode[] = [];
  private ports: SenderPorts | undefined;
  private netApplied = false;
  private netem = false;
  /** what the groups said just before they were removed */
  private final: { throttled: string; killed: string[] } | undefined;
  private readonly memoryMb: number;
  private readonly onSignal = (sig: NodeJS.Signals) => {
    // the harness's own handler would end the process before any `finally` ran, so what must be
    // cleaned up (containers, groups, the bridge's emulation) is done here, at once
    this.o.say(`${sig}: tearing down`);
    if (this.netApplied) removeNetEmulationSync(BRIDGE);
    if (!this.o.keep) void this.pis?.teardown();
    if (!this.o.keep) removeGroupsSync(this.groups);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };

  constructor(private readonly o: VpiBenchOptions) {
    this.memoryMb = o.profile.ramMb - OS_RESERVED_MB;
  }

  async start(phases: Phases): Promise<SenderPorts> {
    const o = this.o;
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    const stale = removeStaleGroups();
    if (stale) o.say(`removed ${stale} empty cgroup(s) left by interrupted runs`);
    const n = processCount(o.stages);
    // the release is built while the containers boot (one bundle, pinned: a rebuild of the tree meanwhile changes nothing)
    const bundle = buildBundle(projectRoot(), 'x64', join(tmpdir(), 'pifarm-bench-farm-vpi-bundles'), 'onnx');
    bundle.catch(() => undefined);
    const pis = await phases.run(`boot ${n} virtual Pis`, () => startVirtualPis(n, { persist: o.keep }));
    this.pis = pis;
    o.say(`boot per host: ${Object.entries(pis.bootMs).map(([h, ms]) => `${h} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
    this.groups = await phases.run('limit memory per container', () => limitContainers(pis.hosts.map((h) => h.name), o.runId, this.memoryMb));
    o.say(`${this.groups.map((g) => `${g.host} ${g.moved} processes`).join(', ')} in groups of ${this.memoryMb} MB`);
    const b = await phases.run('bundle', () => bundle);
    o.say(`bundle ${b.hash}: ${(b.bytes / 2 ** 20).toFixed(1)} MB packed, ${(b.rawBytes / 2 ** 20).toFixed(0)} MB unpacked`);

    const inventoryFile = writeInventory(o.dir, pis, o.topologyRef, { hosts: n, model: o.model });
    const opts: FarmOptions = { inventoryFile, stateDir: join(o.dir, 'state'), logsDir: join(o.dir, 'logs'), offline: true, json: true, concurrency: 16, bundles: { x64: b } };
    for (const cmd of ['provision', 'deploy', 'start'] as const) await phases.run(cmd, async () => failIfFailed(await simpleCommand(cmd, opts)));
    const plan = await planFarm(opts);
    this.nodes = farmNodes(plan);
    const secret = Buffer.from(plan.secret, 'hex');
    this.ports = { first: plan.wiring.first, lastShards: plan.wiring.lastShards, listen: { host: plan.controlAddress, port: plan.farm.sender.port }, maxMessageBytes: plan.wiring.maxMessageBytes, secret };
    const loaded = await phases.run('load (every node ready)', () =>
      waitLoaded({ nodes: this.nodes, groups: this.groups, pis, maxMessageBytes: plan.wiring.maxMessageBytes, secret, timeoutMs: 300_000, memoryMb: this.memoryMb, profile: o.profile.name }),
    );
    o.say(`load time per node: ${this.nodes.map((x) => `${x.host} ${x.process} ${((loaded.get(x.process)?.loadMs ?? NaN) / 1000).toFixed(1)} s`).join(', ')}`);
    o.say(`memory charged per container: ${this.groups.map((g) => {
      const m = groupMemory(g.group);
      return `${g.host} ${m ? `${m.usedMb.toFixed(0)} MB (${m.shmemMb.toFixed(0)} MB of files on its RAM disk)` : '?'}`;
    }).join(', ')}`);
    return this.ports;
  }

  async stats(): Promise<NodeStats[]> {
    return (await nodeStats(this.nodes, this.ports!.maxMessageBytes, this.ports!.secret!)).map((x) => x.stats);
  }

  /** A container gets the quotas of the nodes it runs, plus the headroom, on its whole process tree. */
  limitCpu(quotaPerStage: number[]): CpuLimits {
    const perHost = new Map<string, number>();
    for (const n of this.nodes) perHost.set(n.host, (perHost.get(n.host) ?? this.o.headroom) + quotaPerStage[this.o.stages.findIndex((s) => s.role === n.role)]!);
    for (const g of this.groups) {
      const q = perHost.get(g.host);
      if (q !== undefined) g.group.setCpuLimit(q, periodUsFor(q));
    }
    this.o.say(`quota per container: ${this.groups.map((g) => `${g.host} ${((perHost.get(g.host) ?? 0) * 100).toFixed(2)}%`).join(', ')} of a core`);
    const total = [...perHost.values()].reduce((a, q) => a + q, 0);
    const fit = quotaFits(total / perHost.size, perHost.size, cpus().length);
    return { perStage: quotaPerStage.map((q) => q + this.o.headroom), fit: fit.ok ? { ok: true, message: `total ${total.toFixed(2)} cores of ${cpus().length}` } : fit };
  }

  async beforeRun(phases: Phases): Promise<void> {
    const net = await phases.run('shared medium', async () => {
      this.netApplied = true;
      return applyNetEmulation({ bridge: BRIDGE, rateMbit: this.o.rateMbit, delayMs: 3, lossPct: 0 });
    });
    this.netem = net.netem;
    this.o.say(`${this.o.rateMbit} Mbit/s shared by ${net.ports.length} ports through one queue${net.netem ? ', 3 ms delay' : ''}`);
    for (const w of net.warnings) this.o.say(`note: ${w} (carrying on without the delay)`);
  }

  network() {
    return { bandwidthMbit: this.o.rateMbit, latencyMs: this.netem ? 3 : 0, lossPct: 0, emulated: true };
  }

  throttled(): number[] {
    return this.groups.map((g) => g.group.cpuThrottling().throttled);
  }

  /** "vpi1 12, vpi2 0": the throttled periods by host (read at tear-down, before the groups go) */
  throttledByHost(): string {
    return this.final?.throttled ?? this.groups.map((g) => `${g.host} ${g.group.cpuThrottling().throttled}`).join(', ');
  }

  /** containers whose group saw an OOM kill, with the nodes they ran (read at tear-down) */
  killedForMemory(): string[] {
    return this.final?.killed ?? this.groups.filter((g) => g.group.oomKills() > 0).map((g) => `${g.host} (${this.nodes.filter((n) => n.host === g.host).map((n) => n.process).join(', ')})`);
  }

  async lossClues(): Promise<string[]> {
    const trouble = this.pis ? await peerTrouble(this.pis, [...new Set(this.nodes.map((n) => n.host))]) : [];
    return trouble.length ? ['what the nodes logged about their peers:', ...trouble.map((l) => `  ${l}`)] : [];
  }

  hostNames(): Record<string, string> {
    return Object.fromEntries(this.nodes.map((n) => [n.process, n.host]));
  }

  async teardown(): Promise<string[]> {
    const problems: string[] = [];
    this.final = { throttled: this.throttledByHost(), killed: this.killedForMemory() };
    if (this.netApplied) await removeNetEmulation(BRIDGE).catch((e: Error) => problems.push(e.message));
    if (this.o.keep) {
      // the groups stay with their containers; the CPU quota goes, so the kept Pis are usable
      for (const g of this.groups) {
        try {
          g.group.setCpuLimit(undefined);
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      if (this.pis) this.o.say(`--keep: ${this.pis.hosts.map((h) => `${h.name} ${h.address}`).join(', ')} left running in their limit groups (key ${this.pis.keyPath}; inventory ${join(this.o.dir, 'farm.yaml')}); "node dist/src/lab/vpi/cli.js down" removes them, a later run the empty groups`);
    } else {
      await this.pis?.teardown();
      problems.push(...removeGroupsSync(this.groups));
      rmSync(this.o.dir, { recursive: true, force: true });
    }
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    return problems;
  }
}
