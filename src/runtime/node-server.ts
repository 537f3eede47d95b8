// One node of the pipeline: serves `forward` (frames in) and `stats`, computes its block one frame
// at a time from a bounded queue, and sends each result on to the next stage (or the sender).
// A frame of the wrong dtype, shape or size is refused and logged with its id; the node keeps
// serving. Bad bytes on a connection close that connection only (server-conn.ts).
import { hostname } from 'node:os';
import { loadInThread } from './compute-thread.js';
import type { Server as NetServer } from 'node:net';
import type { ModelSpec } from '../model/spec.js';
import { runSelfTest, type SelfTestResult } from './self-test.js';
import type { Engine, LoadedBlock } from '../engine/engine.js';
import { ReplicaSet } from './failover.js';
import { DEFAULT_QUEUE_CAPACITY, type NodeConfig } from './config.js';
import { MergeBuffer } from './merge.js';
import { collectGarbage, peakRssBytes } from './memory.js';
import { Peer } from './peer.js';
import { nowMs, service, type Frame, type Hop, type NodeStats, type Tensor } from './protocol.js';
import { closeServer, serveAvro } from './server-conn.js';
import { stageShapes, type StageShapes } from './stage-shapes.js';
import { mergeTraces } from './stats.js';
import { concatFloat, floatTensor, floatValues, stageInput, tensorProblem } from './tensor.js';

interface Job {
  id: number;
  sentAt: number;
  arrival: number;
  trace: Hop[];
  tensor?: Tensor;
  /** already float (a merged frame) */
  values?: Float32Array;
}

/** Logs the first few of a repeated event, then every 100th, so a flood cannot fill a disk. */
function throttled(log: (m: string) => void): (n: number, m: string) => void {
  return (n, m) => {
    if (n <= 10 || n % 100 === 0) log(n > 10 ? `${m} (${n} so far)` : m);
  };
}

export interface NodeServerOptions {
  log?: (msg: string) => void;
  /** name in traces and stats; default os.hostname() */
  host?: string;
  /** the farm secret (from NodeConfig.secretFile): every connection in and out proves it */
  secret?: Buffer;
}

export class NodeServer {
  readonly shapes: StageShapes;
  private net: NetServer | null = null;
  private block: LoadedBlock | null = null;
  private engineName = '';
  /** the known-answer frame's outcome, when the config asked for one */
  knownAnswer: SelfTestResult | undefined;
  private readonly queue: Job[] = [];
  private running = false;
  private readonly merge: MergeBuffer<{ frame: Frame }> | null;
  private readonly peers: Peer[];
  /** the next stage's replicas with failover; null when results go to the sender */
  private readonly replicas: ReplicaSet | null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: (m: string) => void;
  private readonly warn: (n: number, m: string) => void;
  private readonly host: string;
  private readonly secret: Buffer | undefined;
  private readonly started = Date.now();
  private loadMs = 0;
  private loadError: string | null = null;
  private busyMs = 0;
  private peakRss = 0;
  received = 0;
  computed = 0;
  refused = 0;
  queueDropped = 0;
  failed = 0;

  constructor(
    readonly cfg: NodeConfig,
    readonly spec: ModelSpec | null,
    opts: NodeServerOptions = {},
  ) {
    this.log = opts.log ?? ((m) => console.error(m));
    this.warn = throttled(this.log);
    this.host = opts.host ?? hostname();
    this.secret = opts.secret;
    this.shapes = stageShapes(spec, cfg);
    this.merge =
      cfg.mergeFrom > 1
        ? new MergeBuffer({
            shards: cfg.mergeFrom,
            capacity: cfg.mergeCapacity,
            timeoutMs: cfg.mergeTimeoutMs,
            onDrop: (id, reason, have) => this.warn(this.merge!.dropped, `frame ${id}: dropped, ${have} of ${cfg.mergeFrom} shards (${reason})`),
          })
        : null;
    const max = cfg.maxMessageBytes;
    if (cfg.next) {
      this.peers = cfg.next.endpoints.map((e) => new Peer(e, max, this.log, opts.secret));
      this.replicas = new ReplicaSet({
        peers: this.peers,
        group: cfg.next.mode === 'shards' ? cfg.next.shardsPerReplica ?? cfg.next.endpoints.length : 1,
        balance: cfg.balance,
        byFrameId: cfg.shard.count > 1,
        window: failoverWindow(this.shapes.output),
        failTimeoutMs: cfg.failTimeoutMs,
        log: this.log,
      });
    } else {
      this.peers = [new Peer(cfg.sender, max, this.log, opts.secret)];
      this.replicas = null;
    }
  }

  get port(): number {
    const a = this.net?.address();
    return a && typeof a === 'object' ? a.port : this.cfg.listen.port;
  }

  get ready(): boolean {
    return this.block !== null || (this.cfg.layers.length === 0 && this.engineName !== '');
  }

  /** Binds the port (fails fast, naming the port and the reason) before the slow block load. */
  async listen(): Promise<void> {
    const server = service.createServer({ silent: true } as never);
    server.on('error', (e: Error) => this.log(`rpc error: ${e.message}`));
    server.onMessage('forward', (req: { frame: Frame }) => this.onForward(req.frame));
    server.onMessage('stats', (_req: unknown, cb: (err: unknown, res: NodeStats) => void) => cb(null, this.stats()));
    this.net = await serveAvro(server, { host: this.cfg.listen.host, port: this.cfg.listen.port, maxMessageBytes: this.cfg.maxMessageBytes, log: this.log, secret: this.secret });
    if (this.merge) this.every(Math.max(5, this.cfg.mergeTimeoutMs / 4), () => this.merge!.sweep());
    if (this.replicas?.wantsLoadPolls) this.every(50, () => this.replicas!.pollLoads());
  }

  /**
   * Loads the block: 'thread' in a worker thread of its own with the config's engine (how a node
   * process runs: its event loop stays free while a frame computes), or with the engine given, in
   * this thread (tests); an identity hop (no layers) needs none.
   */
  async load(engine: Engine | null | 'thread'): Promise<void> {
    const t0 = Date.now();
    try {
      if (engine === 'thread' && (this.cfg.graph || this.cfg.layers.length > 0)) {
        const c = this.cfg;
        const block = await loadInThread({
          engine: c.engine, ...(c.engineModule ? { engineModule: c.engineModule } : {}), ...(c.threads ? { threads: c.threads } : {}),
          model: c.model, layers: c.layers, ...(c.shard.count > 1 ? { shard: c.shard } : {}), seed: c.seed, ...(c.graph ? { graph: c.graph } : {}),
        });
        this.engineName = block.describe;
        // not ready (no frame accepted) until the block gave the known answer
        if (c.selfTest) this.knownAnswer = await runSelfTest(block, c.selfTest);
        this.block = block;
      } else if (engine === 'thread') {
        this.engineName = 'identity';
      } else if (this.cfg.graph) {
        if (!engine?.loadGraph) throw new Error(`a stage of an imported model needs the onnx engine (onnxruntime: an x64 or arm64 host), not ${engine?.name ?? 'none'}`);
        this.engineName = engine.describe();
        const g = this.cfg.graph;
        this.block = await engine.loadGraph({ graph: g.file, input: g.input, inputShape: g.inputDims.slice(1), outputShape: g.outputDims.slice(1), ...(g.preprocess ? { preprocess: g.preprocess } : {}), ...(this.cfg.threads ? { threads: this.cfg.threads } : {}) });
      } else if (this.cfg.layers.length === 0) {
        this.engineName = 'identity';
      } else {
        if (!engine) throw new Error('an engine is needed for a block with layers');
        this.engineName = engine.describe();
        const shard = this.cfg.shard.count > 1 ? this.cfg.shard : undefined;
        const block = await engine.load({ model: this.spec!, layers: this.cfg.layers, shard, seed: this.cfg.seed, threads: this.cfg.threads });
        // not ready (no frame accepted) until the block gave the known answer
        if (this.cfg.selfTest) this.knownAnswer = await runSelfTest(block, this.cfg.selfTest);
        this.block = block;
      }
    } catch (e) {
      this.loadError = (e as Error).message;
      throw e;
    }
    this.loadMs = Date.now() - t0;
    this.sampleRss(); // the load's peak
    collectGarbage();
    void this.pump();
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.replicas?.close();
    for (const p of this.peers) p.close();
    if (this.net) await closeServer(this.net);
    await this.block?.dispose();
    this.block = null;
  }

  stats(): NodeStats {
    const rss = this.sampleRss();
    return {
      role: this.cfg.role,
      replica: this.cfg.replica,
      shard: this.cfg.shard.index,
      host: this.host,
      ready: this.ready,
      engine: this.engineName,
      rssBytes: rss,
      peakRssBytes: peakRssBytes(this.peakRss),
      received: this.received,
      computed: this.computed,
      refused: this.refused,
      queueDropped: this.queueDropped,
      mergeDropped: this.merge?.dropped ?? 0,
      sendFailed: this.peers.reduce((a, p) => a + p.failed + p.overflowed, 0) + (this.replicas?.unplaced ?? 0),
      queued: this.queue.length + (this.running ? 1 : 0),
      busyMs: this.busyMs,
      cpuMs: cpuMs(),
      uptimeMs: Date.now() - this.started,
      loadMs: this.loadMs,
      error: this.loadError,
    };
  }

  private onForward(frame: Frame): void {
    const arrival = nowMs();
    this.received++;
    const refuse = (why: string) => {
      this.refused++;
      this.warn(this.refused, `frame ${frame.id}: refused: ${why}`);
    };
    if (!frame.tensor) return refuse('no tensor');
    if (this.merge) {
      const { parts } = this.shapes;
      if (frame.shardCount !== this.cfg.mergeFrom || !(frame.fromShard >= 0 && frame.fromShard < this.cfg.mergeFrom)) {
        return refuse(`shard ${frame.fromShard} of ${frame.shardCount}, this stage merges ${this.cfg.mergeFrom} shards`);
      }
      const problem = tensorProblem(frame.tensor, 'float32', parts ? parts[frame.fromShard]! : null);
      if (problem) return refuse(`${problem} (from shard ${frame.fromShard})`);
      const all = this.merge.add(frame.id, frame.fromShard, { frame });
      if (!all) return;
      const values = concatFloat(all.map((p) => floatValues(p.frame.tensor)));
      return this.enqueue({ id: frame.id, sentAt: frame.sentAt, arrival: nowMs(), trace: mergeTraces(all.map((p) => p.frame.trace)), values });
    }
    const problem = tensorProblem(frame.tensor, this.shapes.input.dtype, this.shapes.input.shape);
    if (problem) return refuse(problem);
    this.enqueue({ id: frame.id, sentAt: frame.sentAt, arrival, trace: frame.trace, tensor: frame.tensor });
  }

  private enqueue(job: Job): void {
    const cap = this.cfg.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    if (this.queue.length >= cap) {
      this.queueDropped++;
      this.warn(this.queueDropped, `frame ${job.id}: dropped, input queue full (${cap})`);
      return;
    }
    this.queue.push(job);
    void this.pump();
  }

  /** Computes queued frames one at a time; the event loop keeps receiving while the engine runs. */
  private async pump(): Promise<void> {
    if (this.running || !this.ready) return;
    this.running = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        const start = nowMs();
        let out: Tensor;
        try {
          if (!this.block) {
            out = job.tensor ?? floatTensor(job.values!, [job.values!.length]);
          } else {
            const y = await this.block.run(job.values ?? stageInput(job.tensor!));
            out = floatTensor(y, this.shapes.output!);
          }
        } catch (e) {
          this.failed++;
          this.warn(this.failed, `frame ${job.id}: compute failed: ${(e as Error).message}`);
          continue;
        }
        const end = nowMs();
        this.busyMs += end - start;
        this.computed++;
        const hop: Hop = { role: this.cfg.role, replica: this.cfg.replica, shard: this.cfg.shard.index, host: this.host, arrival: job.arrival, start, end };
        if (this.cfg.verbose) this.log(`frame ${job.id}: ${(end - start).toFixed(2)} ms`);
        this.send({ id: job.id, sentAt: job.sentAt, fromShard: this.cfg.shard.index, shardCount: this.cfg.shard.count, tensor: out, trace: [...job.trace, hop] });
        if ((this.computed & 15) === 0) this.sampleRss();
      }
    } finally {
      this.running = false;
    }
  }

  private send(frame: Frame): void {
    if (this.replicas) this.replicas.send(frame);
    else this.peers[0]!.forward(frame);
  }

  private sampleRss(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
    return rss;
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}

/**
 * Frames a node remembers per next-stage replica for re-sending after a loss: up to 8, and no more
 * than 32 MB of outputs (a VGG16 block1 output is 12.8 MB; a 1 GB Pi cannot hold many).
 */
function failoverWindow(output: number[] | null): number {
  const bytes = output ? output.reduce((a, b) => a * b, 4) : 1 << 20;
  return Math.max(1, Math.min(8, Math.floor((32 << 20) / bytes)));
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
