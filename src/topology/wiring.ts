// Wiring: the stages of a topology plus where each node process runs (placements) become one
// NodeConfig per process: what it computes, where it listens, where it sends. Pure logic, used by
// the local demo (127.0.0.1, free ports) and by farm/ (inventory hosts, the paper's ports).
import type { StageSpec } from '../model/spec.js';
import { loadModelSpec } from '../model/spec.js';
import { stageInfos } from '../model/shapes.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type Balance,
  type Endpoint,
  type NextStage,
  type NodeConfig,
  type StageGraph,
} from '../runtime/config.js';
import type { Placement } from './types.js';

export class WiringError extends Error {}

export interface WiringInput {
  model: string;
  stages: StageSpec[];
  /** one per node process: r*s per stage of r replicas and s shards */
  placements: Placement[];
  /** host name -> the address other hosts reach it at */
  addresses: Record<string, string>;
  /** the initial sender's host and result port */
  sender: { host: string; port: number };
  /** a farm.engine choice; each host's deploy completes it for the host's CPU (farm/host-engine.ts) */
  engine: string;
  threads?: number;
  seed: number;
  balance?: Balance;
  /** where nodes listen: 0.0.0.0 on a Pi (default), 127.0.0.1 locally */
  listenHost?: string;
  maxMessageBytes?: number;
  mergeTimeoutMs?: number;
  mergeCapacity?: number;
  queueCapacity?: number;
  secretFile?: string;
  /** an imported model: each stage's graph (its file where the node runs); maxMessageBytes must be given */
  graphs?: (stageIndex: number, shard: number) => StageGraph;
}

export interface Wiring {
  /** in the order of the placements */
  nodes: NodeConfig[];
  /** where the sender sends: the first stage */
  first: NextStage;
  /** the last stage's shard count: the sender merges results by frame id when > 1 */
  lastShards: number;
  /** the message bound every node uses */
  maxMessageBytes: number;
}

/** Big enough for the largest tensor between two stages (plus framing), at least 16 MiB. */
export function messageBoundFor(model: string, stages: StageSpec[]): number {
  const infos = stageInfos(loadModelSpec(model), stages);
  const largest = Math.max(...infos.map((i) => i.inShape.reduce((a, b) => a * b, 1) * 4), ...infos.map((i) => i.outBytes));
  return Math.max(DEFAULT_MAX_MESSAGE_BYTES, largest + 1024 * 1024);
}

/**
 * Why a stage cannot be split by output units, or null. A softmax normalises over ALL units of
 * its layer: each shard would normalise over its own slice only, and the merged output would not
 * be the model's (the output check catches it: max |diff| ~1e-3 on AlexNet fc3).
 */
export function shardProblem(model: string, stage: StageSpec): string | null {
  if (stage.shards <= 1) return null;
  const spec = loadModelSpec(model);
  for (const name of stage.layers) {
    const l = spec.layers.find((x) => x.name === name);
    if (l?.activation === 'softmax') return `stage ${stage.role}: ${name} ends in softmax, which cannot be split into ${stage.shards} shards (each would normalise over its own units only); split a layer before it instead`;
  }
  return null;
}

export function wireTopology(w: WiringInput): Wiring {
  const { stages } = w;
  if (stages.length === 0) throw new WiringError('the topology has no stages');
  for (const s of stages) {
    // an imported model's shards were checked with its graph (engine/imported-stage.ts)
    const problem = w.graphs ? null : shardProblem(w.model, s);
    if (problem) throw new WiringError(problem);
  }
  const addr = (host: string, what: string): string => {
    const a = w.addresses[host];
    if (!a) throw new WiringError(`${what}: host "${host}" has no address; known hosts: ${Object.keys(w.addresses).join(', ') || '(none)'}`);
    return a;
  };
  // grid[stage][replica][shard] = placement
  const grid: Placement[][][] = stages.map((s) => Array.from({ length: s.replicas }, () => new Array<Placement>(s.shards)));
  const used = new Set<string>();
  for (const p of w.placements) {
    const s = stages[p.stageIndex];
    const what = `placement ${p.role} replica ${p.replica} shard ${p.shard} on ${p.host}`;
    if (!s) throw new WiringError(`${what}: stage index ${p.stageIndex} is outside 0..${stages.length - 1}`);
    if (s.role !== p.role) throw new WiringError(`${what}: stage ${p.stageIndex} is role "${s.role}", not "${p.role}"`);
    if (!(p.replica >= 0 && p.replica < s.replicas)) throw new WiringError(`${what}: replica outside 0..${s.replicas - 1}`);
    if (!(p.shard >= 0 && p.shard < s.shards)) throw new WiringError(`${what}: shard outside 0..${s.shards - 1}`);
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new WiringError(`${what}: port ${p.port} is not 1..65535`);
    if (grid[p.stageIndex]![p.replica]![p.shard]) throw new WiringError(`${what}: placed twice`);
    const key = `${addr(p.host, what)}:${p.port}`;
    if (used.has(key)) throw new WiringError(`${what}: ${key} is already used by another node`);
    used.add(key);
    grid[p.stageIndex]![p.replica]![p.shard] = p;
  }
  stages.forEach((s, i) => {
    for (let r = 0; r < s.replicas; r++) {
      for (let k = 0; k < s.shards; k++) {
        if (!grid[i]![r]![k]) throw new WiringError(`stage ${s.role}: replica ${r} shard ${k} has no placement`);
      }
    }
  });
  const senderAddr = addr(w.sender.host, 'sender');
  const senderKey = `${senderAddr}:${w.sender.port}`;
  if (used.has(senderKey)) throw new WiringError(`sender: ${senderKey} is already used by a node`);

  const endpoint = (p: Placement): Endpoint => ({ host: addr(p.host, p.role), port: p.port });
  /** How to reach stage i: every process, replica-major. */
  const target = (i: number): NextStage => {
    const s = stages[i]!;
    const endpoints = grid[i]!.flatMap((row) => row.map(endpoint));
    return s.shards > 1
      ? { role: s.role, mode: 'shards', endpoints, shardsPerReplica: s.shards }
      : { role: s.role, mode: 'replicas', endpoints };
  };
  const maxMessageBytes = w.maxMessageBytes ?? messageBoundFor(w.model, stages);
  const nodes = w.placements.map((p): NodeConfig => {
    const s = stages[p.stageIndex]!;
    const cfg: NodeConfig = {
      model: w.model,
      role: s.role,
      stageIndex: p.stageIndex,
      layers: [...s.layers],
      replica: p.replica,
      shard: { index: p.shard, count: s.shards },
      listen: { host: w.listenHost ?? '0.0.0.0', port: p.port },
      mergeFrom: p.stageIndex > 0 ? stages[p.stageIndex - 1]!.shards : 1,
      next: p.stageIndex + 1 < stages.length ? target(p.stageIndex + 1) : null,
      sender: { host: senderAddr, port: w.sender.port },
      engine: w.engine === 'tfjs' ? 'tfjs' : 'onnx',
      seed: w.seed,
      balance: w.balance ?? 'round-robin',
      maxMessageBytes,
      mergeTimeoutMs: w.mergeTimeoutMs ?? 5000,
      mergeCapacity: w.mergeCapacity ?? 64,
    };
    if (w.threads !== undefined) cfg.threads = w.threads;
    if (w.queueCapacity !== undefined) cfg.queueCapacity = w.queueCapacity;
    if (w.secretFile !== undefined) cfg.secretFile = w.secretFile;
    if (w.graphs) {
      cfg.layers = [];
      cfg.graph = w.graphs(p.stageIndex, p.shard);
    }
    return cfg;
  });
  return { nodes, first: target(0), lastShards: stages[stages.length - 1]!.shards, maxMessageBytes };
}
