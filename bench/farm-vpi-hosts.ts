// The parts of `bench farm-vpi` that deal with the virtual Pis as emulated Pis: the inventory for
// them, one limit group per container (its whole process tree, OS included, as on a Pi), waiting
// for every node to load (and naming the host and role a memory limit killed), the nodes' own
// figures, and a synchronous clean-up for Ctrl-C.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { VirtualPis } from '../src/lab/vpi/harness.js';
import { VPI_ROOT } from '../src/lab/vpi/cleanup.js';
import { childPids, readPid, sleepSync } from '../src/lab/vpi/system.js';
import { createLimitGroup, type LimitGroup } from '../src/lab/emulate/cgroup.js';
import { limitProcessTree } from '../src/lab/emulate/process-tree.js';
import { ifbName, nftTable } from '../src/lab/emulate/network.js';
import { Peer } from '../src/runtime/peer.js';
import type { NodeStats } from '../src/runtime/protocol.js';
import { instanceName } from '../src/provision/layout.js';
import { processName } from '../src/runtime/process-name.js';
import type { FarmPlan } from '../src/farm/plan.js';

/** One node process of the farm: where it runs and how to reach it. */
export interface FarmNode {
  host: string;
  address: string;
  port: number;
  role: string;
  replica: number;
  shard: number;
  /** processName(): "fc1.0.s1" */
  process: string;
  /** its systemd unit on the host */
  unit: string;
}

export function farmNodes(plan: FarmPlan): FarmNode[] {
  const shards = new Map(plan.farm.stages.map((s) => [s.role, s.shards]));
  return plan.farm.placements.map((p, i) => ({
    host: p.host,
    address: plan.inv.hosts.find((h) => h.name === p.host)!.address,
    port: plan.wiring.nodes[i]!.listen.port,
    role: p.role,
    replica: p.replica,
    shard: p.shard,
    process: processName(p, shards.get(p.role) ?? 1),
    unit: `pifarm-node@${instanceName(p.role, p.replica, p.shard)}`,
  }));
}

export interface HostGroup {
  host: string;
  group: LimitGroup;
  /** processes of the container moved into the group when it was made */
  moved: number;
}

/**
 * One group per container with the memory limit, holding the container's whole process tree from
 * its init down (systemd, journald, sshd: the Pi's OS counts inside, as on a Pi); everything it
 * starts later (ssh sessions, node units) inherits the group.
 */
export function limitContainers(hosts: string[], runId: string, memoryMb: number): HostGroup[] {
  const out: HostGroup[] = [];
  try {
    for (const host of hosts) {
      const nspawn = readPid(join(VPI_ROOT, host, 'nspawn.pid'));
      const init = nspawn === undefined ? undefined : childPids(nspawn)[0];
      if (init === undefined) throw new Error(`${host}: its container is not running (no init under systemd-nspawn)`);
      const group = createLimitGroup(`${runId}-${host}`, { memoryMb });
      out.push({ host, group, moved: 0 });
      out[out.length - 1]!.moved = limitProcessTree(group, init);
    }
  } catch (e) {
    removeGroupsSync(out);
    throw e;
  }
  return out;
}

/** Memory of a group (v1 memory.stat, v2 memory.stat), MB: total charged, of it files in the container's tmpfs disk. */
export function groupMemory(g: LimitGroup): { usedMb: number; shmemMb: number } | undefined {
  const memDir = g.mode === 'v2' ? dirname(g.procsFiles[0]!) : g.procsFiles[1] ? dirname(g.procsFiles[1]) : undefined;
  if (!memDir) return undefined;
  try {
    const stat = new Map(readFileSync(join(memDir, 'memory.stat'), 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]));
    const used = Number(readFileSync(join(memDir, g.mode === 'v2' ? 'memory.current' : 'memory.usage_in_bytes'), 'utf8'));
    const shmem = Number(stat.get(g.mode === 'v2' ? 'shmem' : 'total_shmem') ?? stat.get('shmem') ?? 0);
    return { usedMb: used / 2 ** 20, shmemMb: shmem / 2 ** 20 };
  } catch {
    return undefined;
  }
}

async function askStats(n: FarmNode, maxMessageBytes: number, secret: Buffer, timeoutMs: number): Promise<NodeStats> {
  const peer = new Peer({ host: n.address, port: n.port }, maxMessageBytes, () => {}, secret);
  try {
    return await peer.stats(timeoutMs);
  } finally {
    peer.close();
  }
}

/** Every node's `stats` (resident memory, load time); a node that does not answer is left out. */
export async function nodeStats(nodes: FarmNode[], maxMessageBytes: number, secret: Buffer): Promise<{ node: FarmNode; stats: NodeStats }[]> {
  const got = await Promise.all(nodes.map((n) => askStats(n, maxMessageBytes, secret, 3000).then((stats) => ({ node: n, stats }), () => undefined)));
  return got.filter((x): x is { node: FarmNode; stats: NodeStats } => !!x);
}

async function journal(pis: VirtualPis, n: FarmNode): Promise<string> {
  const r = await pis.exec(n.host, `journalctl -u '${n.unit}' -n 12 --no-pager -o cat 2>&1`).catch((e: Error) => ({ stdout: e.message }));
  return r.stdout.trim();
}

/**
 * Waits until every node has loaded its block (answers `stats` with ready). A group that saw an
 * OOM kill fails the wait at once, naming the host and the roles on it, as a Pi that cannot hold
 * the stage fails at load; so does a node that reports a load error, or a timeout.
 */
export async function waitLoaded(o: { nodes: FarmNode[]; groups: HostGroup[]; pis: VirtualPis; maxMessageBytes: number; secret: Buffer; timeoutMs: number; memoryMb: number; profile: string }): Promise<Map<string, NodeStats>> {
  const deadline = Date.now() + o.timeoutMs;
  const ready = new Map<string, NodeStats>();
  for (;;) {
    const killed = o.groups.filter((g) => g.group.oomKills() > 0);
    if (killed.length) {
      const on = (g: HostGroup) => o.nodes.filter((n) => n.host === g.host);
      const first = on(killed[0]!);
      const logs = await Promise.all(first.map((n) => journal(o.pis, n)));
      throw new Error(
        `killed for exceeding the emulated ${o.profile}'s ${o.memoryMb} MB (its RAM less the OS; the container's own OS counts inside): ` +
          `${killed.map((g) => `${g.host} (${on(g).map((n) => n.process).join(', ')})`).join(', ')}: the stage does not fit this Pi\n` +
          first.map((n, i) => `--- ${n.host} ${n.unit}:\n${logs[i]}`).join('\n'),
      );
    }
    const pending = o.nodes.filter((n) => !ready.has(n.process));
    const answers = await Promise.all(pending.map((n) => askStats(n, o.maxMessageBytes, o.secret, 1000).catch(() => undefined)));
    for (const [i, s] of answers.entries()) {
      const n = pending[i]!;
      if (s?.ready) ready.set(n.process, s);
      else if (s?.error) throw new Error(`${n.host} (${n.process}): failed to load: ${s.error}`);
    }
    if (ready.size === o.nodes.length) return ready;
    if (Date.now() > deadline) {
      const late = o.nodes.filter((n) => !ready.has(n.process));
      const logs = await Promise.all(late.map((n) => journal(o.pis, n)));
      throw new Error(`not loaded after ${o.timeoutMs / 1000} s: ${late.map((n) => `${n.host} (${n.process})`).join(', ')}\n${late.map((n, i) => `--- ${n.host} ${n.unit}:\n${logs[i]}`).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** rmdir each group (its processes must be gone), waiting briefly for exiting ones to leave. */
export function removeGroupsSync(groups: { group: LimitGroup }[]): string[] {
  const problems: string[] = [];
  for (const { group } of groups) {
    for (const dir of new Set(group.procsFiles.map((f) => dirname(f)))) {
      for (let i = 0; ; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
          if (i >= 60) {
            problems.push(`cannot remove ${dir}: ${(e as Error).message}`);
            break;
          }
          sleepSync(50);
        }
      }
    }
  }
  return problems;
}

/** The shared-medium emulation removed without waiting (Ctrl-C): the IFB device, the loss table, the bridge's redirect. */
export function removeNetEmulationSync(bridge: string): void {
  let ports: string[] = [];
  try {
    ports = readdirSync('/sys/class/net').filter((d) => /^vpi\d+-h$/.test(d));
  } catch {
    /* no sysfs */
  }
  const redirects = [bridge, ...ports].map((d) => ['tc', 'qdisc', 'del', 'dev', d, 'clsact']);
  for (const argv of [...redirects, ['ip', 'link', 'del', ifbName(bridge)], ['nft', 'delete', 'table', 'bridge', nftTable(bridge)]]) {
    try {
      execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 5000 });
    } catch {
      /* not there */
    }
  }
}

/** What the nodes logged about peers they called down or could not reach (why frames were lost). */
export async function peerTrouble(pis: VirtualPis, hosts: string[], perHost = 4): Promise<string[]> {
  const out = await Promise.all(
    hosts.map(async (h) => {
      const r = await pis.exec(h, `journalctl -u 'pifarm-node@*' --no-pager -o cat 2>/dev/null | grep -E 'is down|timed out|channel destroyed' | tail -${perHost}`).catch(() => ({ stdout: '' }));
      return r.stdout.trim().split('\n').filter(Boolean).map((l) => `${h}: ${l}`);
    }),
  );
  return out.flat();
}
