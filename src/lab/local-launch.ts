// The local farm: every node of a topology as its own `node` process on 127.0.0.1, each on a free
// port, with its config in a temp dir. Waits until every node answers `stats` with ready (its
// block loaded), and stops them all on stop(), on exit, on Ctrl-C/SIGTERM and on any launch error.
// Child output is prefixed with the role and kept, so a failure shows what the node said.
import { spawn, type ChildProcess } from 'node:child_process';
import { processName } from '../runtime/process-name.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCount } from '../model/spec.js';
import type { StageSpec } from '../model/spec.js';
import type { Balance, NextStage, NodeConfig, StageGraph } from '../runtime/config.js';
import { Peer } from '../runtime/peer.js';
import type { NodeStats } from '../runtime/protocol.js';
import type { Placement } from '../topology/types.js';
import { wireTopology } from '../topology/wiring.js';
import { freePorts } from './local-ports.js';

export class LocalFarmError extends Error {}

export interface LocalFarmOptions {
  model: string;
  stages: StageSpec[];
  engine: 'onnx' | 'tfjs';
  /** onnx intra-op threads per node process; default 1 (several processes share the cores) */
  threads?: number;
  seed: number;
  balance?: Balance;
  queueCapacity?: number;
  mergeTimeoutMs?: number;
  /** how long to wait for every node to load its block (default 180 s) */
  readyTimeoutMs?: number;
  /** print every child line on our stderr as it comes (default: only on failure) */
  echo?: boolean;
  /** override the nodes' config before launch (tests) */
  tweak?: (cfg: NodeConfig) => void;
  /** the argv that starts a node, from the default one (e.g. to start it inside a cgroup) */
  command?: (cfg: NodeConfig, argv: string[]) => string[];
  /** the farm secret when the nodes demand it (their secretFile, set by tweak): readiness polls prove it */
  secret?: Buffer;
  /** the sender's result port, when the sender is already there (a live move); default a free one */
  senderPort?: number;
  /** an imported model: each stage's graph (its file written here) and the message bound they need */
  graphs?: { graph: (stageIndex: number, shard: number) => StageGraph; maxMessageBytes: number };
}

export interface LocalNode {
  name: string;
  config: NodeConfig;
  child: ChildProcess;
  output: string[];
}

export interface LocalFarm extends NodeProcesses {
  first: NextStage;
  lastShards: number;
  senderPort: number;
  maxMessageBytes: number;
}

const KEEP_LINES = 200;

export function nodeMainPath(): string {
  return fileURLToPath(new URL('../runtime/node-main.js', import.meta.url));
}

export async function launchLocalFarm(o: LocalFarmOptions): Promise<LocalFarm> {
  const count = processCount(o.stages);
  const ports = await freePorts(count + (o.senderPort ? 0 : 1));
  const senderPort = o.senderPort ?? ports.pop()!;
  const placements: Placement[] = [];
  o.stages.forEach((s, stageIndex) => {
    for (let replica = 0; replica < s.replicas; replica++) {
      for (let shard = 0; shard < s.shards; shard++) placements.push({ host: 'local', role: s.role, stageIndex, replica, shard, port: ports[placements.length]! });
    }
  });
  const wiring = wireTopology({
    model: o.model,
    stages: o.stages,
    placements,
    addresses: { local: '127.0.0.1' },
    sender: { host: 'local', port: senderPort },
    engine: o.engine,
    threads: o.threads ?? 1,
    seed: o.seed,
    balance: o.balance ?? 'round-robin',
    listenHost: '127.0.0.1',
    queueCapacity: o.queueCapacity,
    mergeTimeoutMs: o.mergeTimeoutMs,
    ...(o.graphs ? { graphs: o.graphs.graph, maxMessageBytes: o.graphs.maxMessageBytes } : {}),
  });
  for (const cfg of wiring.nodes) o.tweak?.(cfg);
  const procs = await startNodeProcesses(wiring.nodes, { echo: o.echo, readyTimeoutMs: o.readyTimeoutMs, maxMessageBytes: wiring.maxMessageBytes, command: o.command, secret: o.secret });
  return { ...procs, first: wiring.first, lastShards: wiring.lastShards, senderPort, maxMessageBytes: wiring.maxMessageBytes };
}

export interface NodeProcesses {
  nodes: LocalNode[];
  /** every node's counters; a node slower to answer than timeoutMs (default 2 s) fails it */
  stats(timeoutMs?: number): Promise<NodeStats[]>;
  stop(): Promise<void>;
}

/**
 * Starts one `node` process per config (configs in a temp dir) and waits until all are ready.
 * Everything is stopped on stop(), on exit, on SIGINT/SIGTERM, and when a node fails to start.
 */
export async function startNodeProcesses(
  configs: NodeConfig[],
  o: { echo?: boolean; readyTimeoutMs?: number; maxMessageBytes: number; command?: (cfg: NodeConfig, argv: string[]) => string[]; secret?: Buffer },
): Promise<NodeProcesses> {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-local-'));
  const nodes: LocalNode[] = [];

  const killAll = (signal: NodeJS.Signals) => {
    for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill(signal);
  };
  const onExit = () => killAll('SIGKILL');
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`pifarm: ${sig}, stopping the local farm`);
    void stop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let stopping: Promise<void> | null = null;
  // The signal handlers stay until the temp dir is gone: a second Ctrl-C during the stop waits too.
  function stop(): Promise<void> {
    stopping ??= (async () => {
      const exits = nodes.map((n) => (n.child.exitCode !== null || n.child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => n.child.once('exit', () => r()))));
      killAll('SIGTERM');
      const timer = setTimeout(() => killAll('SIGKILL'), 3000);
      await Promise.all(exits);
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    })();
    return stopping;
  }

  try {
    configs.forEach((cfg, i) => {
      const name = processName({ role: cfg.role, replica: cfg.replica, shard: cfg.shard.index }, cfg.shard.count);
      const file = join(dir, `${String(i).padStart(2, '0')}-${name}.json`);
      writeFileSync(file, JSON.stringify(cfg, null, 2));
      const argv = [process.execPath, nodeMainPath(), '--config', file];
      const [cmd, ...args] = o.command ? o.command(cfg, argv) : argv;
      // The IPC channel is only a lifeline: a node whose launcher dies (even by SIGKILL) sees it
      // disconnect and exits, so no orphan keeps its port.
      const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      child.channel?.unref();
      const node: LocalNode = { name, config: cfg, child, output: [] };
      const take = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          const l = `[${name}] ${line}`;
          node.output.push(l);
          if (node.output.length > KEEP_LINES) node.output.shift();
          if (o.echo) console.error(l);
        }
      };
      child.stdout!.on('data', take);
      child.stderr!.on('data', take);
      nodes.push(node);
    });
    await waitReady(nodes, o.readyTimeoutMs ?? 180_000, o.maxMessageBytes, o.secret);
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes, stats: (timeoutMs = 2000) => Promise.all(nodes.map((n) => askStats(n, o.maxMessageBytes, timeoutMs, o.secret))), stop };
}

export async function askStats(n: LocalNode, max: number, timeoutMs = 2000, secret?: Buffer): Promise<NodeStats> {
  const peer = new Peer(n.config.listen, max, () => {}, secret);
  try {
    return await peer.stats(timeoutMs);
  } finally {
    peer.close();
  }
}

function failure(n: LocalNode, what: string): LocalFarmError {
  return new LocalFarmError(`node ${n.name} (port ${n.config.listen.port}) ${what}; its output:\n${n.output.slice(-30).join('\n') || '(nothing)'}`);
}

/** Polls every node's `stats` until all are ready; fails fast when one exits. */
async function waitReady(nodes: LocalNode[], timeoutMs: number, max: number, secret?: Buffer): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(nodes);
  while (pending.size) {
    for (const n of pending) {
      if (n.child.exitCode !== null || n.child.signalCode !== null) {
        await new Promise((r) => setTimeout(r, 50)); // let the last output lines arrive
        throw failure(n, `exited with ${n.child.exitCode ?? n.child.signalCode} before it was ready`);
      }
    }
    await Promise.all(
      [...pending].map(async (n) => {
        try {
          const s = await askStats(n, max, 1000, secret);
          if (s.ready) pending.delete(n);
          else if (s.error) throw failure(n, `failed to load: ${s.error}`);
        } catch (e) {
          if (e instanceof LocalFarmError) throw e;
          /* not listening yet */
        }
      }),
    );
    if (!pending.size) break;
    if (Date.now() > deadline) throw failure([...pending][0]!, `was not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
