// The initial sender: streams frames into the first stage and takes the results back on its
// result port. Closed loop (a window of frames in flight, the paper's set-up) or open loop (a
// fixed rate, frames dropped by full queues show up as dropped). Every frame carries its id and
// send time; results are de-duplicated by id, so a frame counts once whatever happens on the way.
//
// IPS (measure.ts): closed loop, the least-squares slope of completions over time while the
// pipeline was full (after the warm-up, before the drain), or by Little's law (window / mean
// latency of those frames) when fewer than six completed then; open loop, the frames completed in
// the steady window over its length. Latency is per frame, send to result, on the sender clock.
import type { Server as NetServer } from 'node:net';
import { SenderEpochs } from './sender-epochs.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './config.js';
import { loadImage, randomFrame } from './frames.js';
import { MergeBuffer } from './merge.js';
import { nowMs, service, type Frame, type NodeStats, type Tensor } from './protocol.js';
import { closeServer, serveAvro } from './server-conn.js';
import type { Completion } from './measure.js';
import { mergeTraces } from './stats.js';
import { concatFloat, floatValues, uint8Tensor } from './tensor.js';
import type { NextStage } from './config.js';
import { buildSenderReport, type SenderReport } from './sender-report.js';
import { defaultSampleIds, type SenderOptions } from './sender-options.js';

export type { SenderReport } from './sender-report.js';

export type { FrameResult, SenderOptions } from './sender-options.js';
export { defaultSampleIds, sampleIdsFor } from './sender-options.js';

export function runSender(o: SenderOptions): Promise<SenderReport> {
  return new Sender(o).run();
}

/** A result's values as floats (a uint8 tensor comes back from an identity pipeline). */
function resultValues(t: Tensor): Float32Array {
  return t.dtype === 'uint8' ? Float32Array.from(t.data) : floatValues(t);
}

/** One run of the sender: frames out, results in, the report at the end. */
export class Sender {
  private readonly log: (m: string) => void;
  private readonly shape: [number, number, number];
  private readonly image: Uint8Array | null;
  private readonly warmup: number;
  /** closed loop: frames in flight; null: open loop at o.rate */
  private readonly window: number | null;
  private readonly idBase: number;
  private readonly sampleIds: Set<number>;
  /** results of a sharded last stage, merged by frame id; one buffer per shard count (a move may change it) */
  private readonly merges = new Map<number, MergeBuffer<Frame>>();
  /** frame id (from 0) -> send time, while in flight */
  private readonly inflight = new Map<number, number>();
  private readonly done = new Set<number>();
  private readonly completions: Completion[] = [];
  private readonly samples = new Map<number, Float32Array>();
  /** the input of each sampled frame from a source (random frames are made again from their id) */
  private readonly sampleInputs = new Map<number, Uint8Array>();
  /** the source's name of each frame in flight */
  private readonly names = new Map<number, string>();
  /** with resultInputs or keepInputs: each frame in flight's input */
  private readonly inputs = new Map<number, Uint8Array>();
  private waitingForSource = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private epochs!: SenderEpochs;
  private net!: NetServer;
  private nextId = 0;
  private sent = 0;
  private dropped = 0;
  private pastDeadline = 0;
  private late = 0;
  private duplicates = 0;
  /** frames re-sent into a new topology after the one they entered was retired */
  private movedFrames = 0;
  private ended = false;
  /** frames to send: o.frames, or fewer once endStream() was called */
  private limit: number;
  private firstMeasuredAt = NaN;
  private finish: () => void = () => {};
  private readonly finished = new Promise<void>((r) => (this.finish = r));

  constructor(private readonly o: SenderOptions) {
    this.log = o.log ?? ((m: string) => console.error(m));
    this.shape = o.input;
    this.image = o.image ? loadImage(o.image, o.input) : null;
    this.limit = o.frames;
    this.warmup = Math.min(o.warmup ?? 0, Math.max(0, o.frames - 1));
    this.window = o.rate ? null : Math.max(1, o.window ?? 8);
    this.idBase = o.idBase ?? 0;
    this.sampleIds = new Set(o.sampleIds ?? defaultSampleIds(o.frames));
  }

  async run(): Promise<SenderReport> {
    await this.listen();
    this.connect();
    const t0 = nowMs();
    this.every(100, () => this.expire());
    if (this.window !== null) this.fill();
    else this.tick(t0, 1000 / this.o.rate!);
    if (this.o.frames === 0) this.finish();
    await this.finished;
    this.ended = true;
    const tEnd = nowMs();
    for (const t of this.timers) clearTimeout(t);
    this.epochs.closeAll();
    await closeServer(this.net);
    return this.report(t0, tEnd);
  }

  private async listen(): Promise<void> {
    const max = this.o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const server = service.createServer({ silent: true } as never);
    server.on('error', (e: Error) => this.log(`sender rpc error: ${e.message}`));
    server.onMessage('forward', (req: { frame: Frame }) => this.onResult(req.frame));
    server.onMessage('stats', (_r: unknown, cb: (e: unknown, s: NodeStats) => void) => cb(null, this.stats()));
    this.net = await serveAvro(server, { host: this.o.listen.host, port: this.o.listen.port, maxMessageBytes: max, log: this.log, secret: this.o.secret });
    const addr = this.net.address();
    this.o.onListening?.(addr && typeof addr === 'object' ? addr.port : this.o.listen.port);
  }

  private connect(): void {
    const o = this.o;
    const max = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    // Frames in flight per replica: all of them may sit at one replica, so the whole window.
    this.epochs = new SenderEpochs({ maxMessageBytes: max, balance: o.balance ?? 'round-robin', window: this.window ?? 256, probeMs: o.probeMs, failTimeoutMs: o.failTimeoutMs, secret: o.secret, log: this.log }, o.first);
    this.every(50, () => {
      if (this.epochs.replicas.wantsLoadPolls) this.epochs.replicas.pollLoads();
    });
  }

  /** A live move: frames sent from now on enter this topology's first stage. Returns its epoch. */
  move(first: NextStage): number {
    if (!this.epochs || this.ended) throw new Error('the sender is not streaming: nothing to move');
    const n = this.epochs.open(first);
    this.fill();
    return n;
  }

  /** Sends no more frames; the run ends once those in flight are back (a benchmark of fixed length). */
  endStream(): void {
    this.limit = Math.min(this.limit, this.nextId);
    this.fill();
  }

  /** Frames completed so far (the elastic controller's measured IPS). */
  get completedFrames(): number {
    return this.completions.length;
  }

  /** Frames that entered epoch n and have no result yet. */
  inFlightIn(epoch: number): number {
    return this.epochs.inFlight(epoch).length;
  }

  /** Retires epoch n (its processes stop next): its frames still in flight are re-sent into the current one. */
  retire(epoch: number): number {
    const left = this.epochs.close(epoch);
    if (this.ended) return 0;
    let resent = 0;
    for (const wireId of left) {
      const id = wireId - this.idBase;
      const sentAt = this.inflight.get(id);
      if (sentAt === undefined) continue;
      const [h, w, c] = this.shape;
      const frame: Frame = { id: wireId, sentAt, fromShard: 0, shardCount: 1, tensor: uint8Tensor(this.inputOf(id), [h, w, c]), trace: [] };
      if (this.epochs.send(frame)) resent++;
    }
    this.movedFrames += resent;
    return resent;
  }

  /** A frame's input again (a re-send): kept, the image, or the random frame made again from its id. */
  private inputOf(id: number): Uint8Array {
    const [h, w, c] = this.shape;
    return this.inputs.get(id) ?? this.image ?? randomFrame(this.o.seed ?? 1, id, h * w * c);
  }

  private mergeFor(shards: number): MergeBuffer<Frame> {
    let m = this.merges.get(shards);
    if (!m) this.merges.set(shards, (m = new MergeBuffer<Frame>({ shards, capacity: this.o.mergeCapacity ?? 64, timeoutMs: this.o.mergeTimeoutMs ?? 5000 })));
    return m;
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  private stats(): NodeStats {
    return { role: 'sender', replica: 0, shard: 0, host: '', ready: true, engine: '', rssBytes: process.memoryUsage.rss(), peakRssBytes: 0, received: this.completions.length, computed: 0, refused: 0, queueDropped: 0, mergeDropped: [...this.merges.values()].reduce((a, m) => a + m.dropped, 0), sendFailed: this.epochs.peers.reduce((a, p) => a + p.failed, 0), queued: this.inflight.size, busyMs: 0, cpuMs: 0, uptimeMs: 0, loadMs: 0, error: null };
  }

  /** Sends the next frame; false when a source has none ready. */
  private sendOne(): boolean {
    const [h, w, c] = this.shape;
    let bytes: Uint8Array;
    const src = this.o.source;
    const id = this.nextId;
    if (src) {
      const f = src.take();
      if (!f) return false;
      bytes = f.bytes;
      if (this.o.onResult) this.names.set(id, f.name);
      if (this.sampleIds.has(id)) this.sampleInputs.set(id, f.bytes);
    } else bytes = this.image ?? randomFrame(this.o.seed ?? 1, id, h * w * c);
    if (this.o.resultInputs || (this.o.keepInputs && src)) this.inputs.set(id, bytes);
    this.nextId++;
    const sentAt = nowMs();
    const frame: Frame = { id: this.idBase + id, sentAt, fromShard: 0, shardCount: 1, tensor: uint8Tensor(bytes, [h, w, c]), trace: [] };
    const ok = this.epochs.send(frame);
    this.sent++;
    if (id === this.warmup) this.firstMeasuredAt = sentAt;
    if (ok) this.inflight.set(id, sentAt);
    else this.dropped++;
    return true;
  }

  /** A source with nothing ready: fill again once it has a frame (or has ended). */
  private waitForSource(): void {
    if (this.waitingForSource) return;
    this.waitingForSource = true;
    void this.o.source!.wait().then(() => {
      this.waitingForSource = false;
      this.fill();
    });
  }

  /** Every frame is sent: the count is reached, or the source has ended. */
  private get allSent(): boolean {
    const src = this.o.source;
    return this.nextId >= this.limit || (!!src && src.ended);
  }

  /** Closed loop: tops the window up; either way, ends the run once every frame is accounted for. */
  private fill(): void {
    if (this.window !== null) {
      while (this.inflight.size < this.window && this.nextId < this.limit) {
        if (!this.sendOne()) {
          if (!this.o.source!.ended) this.waitForSource();
          break;
        }
      }
    }
    if (this.allSent && this.inflight.size === 0) this.finish();
  }

  /** Open loop: sends every frame that is due by now, and sleeps until the next one. */
  private tick(t0: number, periodMs: number): void {
    const due = Math.min(this.limit, Math.floor((nowMs() - t0) / periodMs) + 1);
    while (this.nextId < due) {
      if (this.sendOne()) continue;
      // a source with no frame ready: go on when it has one (or has ended)
      if (!this.o.source!.ended) void this.o.source!.wait().then(() => this.tick(t0, periodMs));
      else this.fill();
      return;
    }
    if (!this.allSent) this.timers.push(setTimeout(() => this.tick(t0, periodMs), Math.max(0, t0 + this.nextId * periodMs - nowMs())));
    else this.fill();
  }

  private onResult(wire: Frame): void {
    const frame = this.idBase ? { ...wire, id: wire.id - this.idBase } : wire;
    const at = nowMs();
    let parts: Frame[] = [frame];
    if (frame.shardCount > 1) {
      const all = this.mergeFor(frame.shardCount).add(frame.id, frame.fromShard, frame);
      if (!all) return;
      parts = all;
    }
    const sentAt = this.inflight.get(frame.id);
    this.epochs.done(wire.id);
    if (this.done.has(frame.id)) {
      this.duplicates++;
      return;
    }
    if (sentAt === undefined) {
      this.late++;
      return;
    }
    this.inflight.delete(frame.id);
    this.done.add(frame.id);
    this.completions.push({ id: frame.id, at, latency: at - sentAt, trace: parts.length > 1 ? mergeTraces(parts.map((p) => p.trace)) : frame.trace });
    // Outputs are decoded only for the sampled frames (and, with a results file, for every one):
    // the sender must not be the bottleneck.
    const wanted = this.sampleIds.has(frame.id) || this.o.onResult;
    const output = wanted ? Float32Array.from(concatFloat(parts.map((p) => resultValues(p.tensor)))) : undefined;
    if (this.sampleIds.has(frame.id)) this.samples.set(frame.id, output!);
    if (this.o.onResult) {
      const input = this.inputs.get(frame.id);
      this.o.onResult({ id: frame.id, name: this.names.get(frame.id) ?? 'random', latencyMs: at - sentAt, output: output!, trace: this.completions[this.completions.length - 1]!.trace, ...(input ? { input } : {}) });
      this.names.delete(frame.id);
      this.inputs.delete(frame.id);
    }
    this.fill();
  }

  /** Frames without a result after frameTimeoutMs are dropped (and counted), so the run ends. */
  private expire(): void {
    const deadline = this.o.deadlineMs;
    const timeoutMs = Math.min(this.o.frameTimeoutMs ?? 30_000, deadline ?? Infinity);
    const limit = nowMs() - timeoutMs;
    for (const [id, t] of this.inflight) {
      if (t > limit) continue;
      this.inflight.delete(id);
      this.epochs.done(this.idBase + id);
      this.names.delete(id);
      this.inputs.delete(id);
      this.dropped++;
      if (deadline !== undefined && timeoutMs === deadline) this.pastDeadline++;
      else this.log(`frame ${id}: no result after ${timeoutMs} ms, counted as dropped`);
    }
    for (const m of this.merges.values()) m.sweep();
    this.o.onCounts?.({ offered: this.nextId, skipped: this.o.source?.skipped ?? 0, lost: this.dropped });
    this.fill();
  }

  private report(t0: number, tEnd: number): SenderReport {
    return buildSenderReport(this.o, {
      window: this.window,
      warmup: this.warmup,
      offered: this.nextId,
      frames: this.o.source || this.limit < this.o.frames ? this.nextId : this.o.frames,
      sent: this.sent,
      dropped: this.dropped,
      pastDeadline: this.pastDeadline,
      late: this.late,
      duplicates: this.duplicates,
      failover: this.epochs.stats(),
      epochs: this.epochs.current + 1,
      movedFrames: this.movedFrames,
      firstMeasuredAt: this.firstMeasuredAt,
      completions: this.completions,
      samples: this.samples,
      sampleInputs: this.sampleInputs,
      t0,
      tEnd,
    });
  }
}
