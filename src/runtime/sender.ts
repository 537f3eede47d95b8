// The initial sender: streams frames into the first stage and takes the results back on its
// result port. Closed loop (a window of frames in flight, the paper's set-up) or open loop (a
// fixed rate, frames dropped by full queues show up as dropped). Every frame carries its id and
// send time; results are de-duplicated by id, so a frame counts once whatever happens on the way.
//
// IPS (measure.ts): closed loop, by Little's law, window / mean latency of the frames that ran
// with the pipeline full (warm-up excluded); open loop, frames completed after the warm-up over
// the steady window. Latency is per frame, send to result, on the sender clock.
import type { Server as NetServer } from 'node:net';
import { ReplicaSet, type FailoverStats } from './failover.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type Balance, type Endpoint, type NextStage } from './config.js';
import { loadImage, randomFrame } from './frames.js';
import { MergeBuffer } from './merge.js';
import { Peer } from './peer.js';
import { nowMs, service, type Frame, type Hop, type NodeStats, type Tensor } from './protocol.js';
import { closeServer, serveAvro } from './server-conn.js';
import { figures, steadyWindow, throughput, type Completion } from './measure.js';
import { mergeTraces, summarize, type ProcessFigures, type Summary } from './stats.js';
import { concatFloat, floatValues, uint8Tensor } from './tensor.js';

export interface SenderOptions {
  /** the model's input [h, w, c] */
  input: [number, number, number];
  /** the first stage */
  first: NextStage;
  /** shard count of the last stage: results are merged by frame id when > 1 */
  lastShards?: number;
  /** the result port (the last stage sends here); port 0 picks a free one (see onListening) */
  listen: Endpoint;
  frames: number;
  /** the first frames, excluded from IPS and latency (engine warm-up, connection set-up) */
  warmup?: number;
  /** closed loop: frames in flight (default 8) */
  window?: number;
  /** open loop: frames per second (overrides window) */
  rate?: number;
  seed?: number;
  /** a raw RGB or PPM image sent as every frame, instead of random frames */
  image?: string;
  balance?: Balance;
  /**
   * Added to every frame id on the wire (reports keep ids from 0): a run against nodes that are
   * already running (a farm) must not reuse the ids an earlier run left in their merge buffers.
   */
  idBase?: number;
  /** frame ids whose outputs are kept for the output check */
  sampleIds?: number[];
  /** a frame not back after this long is dropped (default 30 s) */
  frameTimeoutMs?: number;
  /** failover: a first-stage replica that does not answer a probe within this is down (default 5 s) */
  failTimeoutMs?: number;
  /** failover: probe period of the replicas, down ones included (default 500 ms) */
  probeMs?: number;
  maxMessageBytes?: number;
  mergeTimeoutMs?: number;
  mergeCapacity?: number;
  log?: (msg: string) => void;
  /** the farm secret: proven on every connection (nodes configured with a secretFile demand it) */
  secret?: Buffer;
  onListening?: (port: number) => void;
  /** also return every completed frame with its trace (report timelines); off by default */
  keepTimeline?: boolean;
}

export interface SenderReport {
  mode: 'closed-loop' | 'open-loop';
  window: number | null;
  rate: number | null;
  frames: number;
  warmup: number;
  sent: number;
  completed: number;
  dropped: number;
  /** results that came after their frame timed out, or for unknown ids */
  late: number;
  duplicates: number;
  /** first-stage replicas lost and frames re-sent to the survivors */
  failover: FailoverStats;
  wallMs: number;
  steadyFrames: number;
  steadyMs: number;
  ips: number;
  /**
   * how ips was measured: "rate" = the slope of completions over time while the pipeline was full
   * (closed loop; robust to completions that come in bursts, as 7 replicas finishing together do);
   * "little" = window / mean latency of those frames (fewer than 6 of them); "span" = steady
   * frames / steady window (open loop, or a run too short)
   */
  ipsMethod: 'rate' | 'little' | 'span';
  latencyMs: Summary;
  processes: ProcessFigures[];
  /** outputs of the sampled frames (not JSON: Float32Array) */
  samples: Map<number, Float32Array>;
  /** with keepTimeline: every completed frame, in completion order, times on the sender clock */
  timeline?: { id: number; sentAt: number; doneAt: number; trace: Hop[] }[];
}


/** A result's values as floats (a uint8 tensor comes back from an identity pipeline). */
function resultValues(t: Tensor): Float32Array {
  return t.dtype === 'uint8' ? Float32Array.from(t.data) : floatValues(t);
}

export function defaultSampleIds(frames: number, n = 5): number[] {
  const k = Math.min(n, frames);
  return [...new Set(Array.from({ length: k }, (_, i) => Math.floor(((frames - 1) * i) / Math.max(1, k - 1))))];
}

export async function runSender(o: SenderOptions): Promise<SenderReport> {
  const log = o.log ?? ((m: string) => console.error(m));
  const [h, w, c] = o.input;
  const frameBytes = h * w * c;
  const image = o.image ? loadImage(o.image, o.input) : null;
  const seed = o.seed ?? 1;
  const warmup = Math.min(o.warmup ?? 0, Math.max(0, o.frames - 1));
  const window = o.rate ? null : Math.max(1, o.window ?? 8);
  const timeoutMs = o.frameTimeoutMs ?? 30_000;
  const max = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const sampleIds = new Set(o.sampleIds ?? defaultSampleIds(o.frames));
  const lastShards = o.lastShards ?? 1;
  const merge = lastShards > 1 ? new MergeBuffer<Frame>({ shards: lastShards, capacity: o.mergeCapacity ?? 64, timeoutMs: o.mergeTimeoutMs ?? 5000 }) : null;

  const inflight = new Map<number, number>();
  const done = new Set<number>();
  const expired = new Set<number>();
  const completions: Completion[] = [];
  const sendTimes = { firstMeasured: NaN };
  const samples = new Map<number, Float32Array>();
  let nextId = 0;
  const idBase = o.idBase ?? 0;
  let sent = 0;
  let dropped = 0;
  let late = 0;
  let duplicates = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));

  const server = service.createServer({ silent: true } as never);
  server.on('error', (e: Error) => log(`sender rpc error: ${e.message}`));
  server.onMessage('forward', (req: { frame: Frame }) => onResult(req.frame));
  server.onMessage('stats', (_r: unknown, cb: (e: unknown, s: NodeStats) => void) => cb(null, senderStats()));
  const net: NetServer = await serveAvro(server, { host: o.listen.host, port: o.listen.port, maxMessageBytes: max, log, secret: o.secret });
  const addr = net.address();
  o.onListening?.(addr && typeof addr === 'object' ? addr.port : o.listen.port);

  const peers = o.first.endpoints.map((e) => new Peer(e, max, log, o.secret));
  const group = o.first.mode === 'shards' ? o.first.shardsPerReplica ?? peers.length : 1;
  // Frames in flight per replica: all of them may sit at one replica, so the whole window.
  const replicas = new ReplicaSet({ peers, group, balance: o.balance ?? 'round-robin', window: window ?? 256, probeMs: o.probeMs, failTimeoutMs: o.failTimeoutMs, log });
  const balancer = replicas.balancer;
  const timers: NodeJS.Timeout[] = [];
  if (balancer.balance === 'least-loaded' && balancer.replicas > 1) {
    timers.push(
      setInterval(() => {
        for (let r = 0; r < balancer.replicas; r++) if (replicas.isUp(r)) peers[r * group]!.stats(1000).then((s) => balancer.report(r, s.queued), () => {});
      }, 50),
    );
  }

  function senderStats(): NodeStats {
    return { role: 'sender', replica: 0, shard: 0, host: '', ready: true, engine: '', rssBytes: process.memoryUsage.rss(), peakRssBytes: 0, received: completions.length, computed: 0, refused: 0, queueDropped: 0, mergeDropped: merge?.dropped ?? 0, sendFailed: peers.reduce((a, p) => a + p.failed, 0), queued: inflight.size, busyMs: 0, cpuMs: 0, uptimeMs: 0, loadMs: 0, error: null };
  }

  function sendOne(): void {
    const id = nextId++;
    const bytes = image ?? randomFrame(seed, id, frameBytes);
    const sentAt = nowMs();
    const frame: Frame = { id: idBase + id, sentAt, fromShard: 0, shardCount: 1, tensor: uint8Tensor(bytes, [h, w, c]), trace: [] };
    const ok = replicas.send(frame);
    sent++;
    if (id === warmup) sendTimes.firstMeasured = sentAt;
    if (ok) inflight.set(id, sentAt);
    else {
      dropped++;
      expired.add(id);
    }
  }

  function fill(): void {
    if (window !== null) while (inflight.size < window && nextId < o.frames) sendOne();
    if (nextId >= o.frames && inflight.size === 0) finish();
  }

  function onResult(wire: Frame): void {
    const frame = idBase ? { ...wire, id: wire.id - idBase } : wire;
    const at = nowMs();
    let parts: Frame[] = [frame];
    if (merge) {
      const all = merge.add(frame.id, frame.fromShard, frame);
      if (!all) return;
      parts = all;
    }
    const sentAt = inflight.get(frame.id);
    replicas.done(wire.id);
    if (done.has(frame.id)) {
      duplicates++;
      return;
    }
    if (sentAt === undefined) {
      late++;
      return;
    }
    inflight.delete(frame.id);
    done.add(frame.id);
    completions.push({ id: frame.id, at, latency: at - sentAt, trace: parts.length > 1 ? mergeTraces(parts.map((p) => p.trace)) : frame.trace });
    // Outputs are decoded only for the sampled frames: the sender must not be the bottleneck.
    if (sampleIds.has(frame.id)) samples.set(frame.id, Float32Array.from(concatFloat(parts.map((p) => resultValues(p.tensor)))));
    fill();
  }

  timers.push(
    setInterval(() => {
      const limit = nowMs() - timeoutMs;
      for (const [id, t] of inflight) {
        if (t > limit) continue;
        inflight.delete(id);
        replicas.done(idBase + id);
        expired.add(id);
        dropped++;
        log(`frame ${id}: no result after ${timeoutMs} ms, counted as dropped`);
      }
      if (merge) merge.sweep();
      fill();
    }, 100),
  );

  const t0 = nowMs();
  if (window !== null) {
    fill();
  } else {
    const period = 1000 / o.rate!;
    const tick = () => {
      const due = Math.min(o.frames, Math.floor((nowMs() - t0) / period) + 1);
      while (nextId < due) sendOne();
      if (nextId < o.frames) timers.push(setTimeout(tick, Math.max(0, t0 + nextId * period - nowMs())));
      else fill();
    };
    tick();
  }
  if (o.frames === 0) finish();
  await finished;
  const tEnd = nowMs();
  for (const t of timers) clearTimeout(t);
  replicas.close();
  for (const p of peers) p.close();
  await closeServer(net);

  completions.sort((a, b) => a.at - b.at);
  const { steady, steadyStart, steadyEnd } = steadyWindow(completions, sendTimes, warmup, window, t0, tEnd);
  const steadyMs = Math.max(0, steadyEnd - steadyStart);
  const measured = completions.filter((x) => x.id >= warmup);
  return {
    mode: window === null ? 'open-loop' : 'closed-loop',
    window,
    rate: o.rate ?? null,
    frames: o.frames,
    warmup,
    sent,
    completed: completions.length,
    dropped,
    late,
    duplicates,
    failover: replicas.stats(),
    wallMs: tEnd - t0,
    steadyFrames: steady.length,
    steadyMs,
    ...throughput(completions, warmup, window, steady.length, steadyMs),
    latencyMs: summarize((measured.length ? measured : completions).map((x) => x.latency)),
    processes: figures(steady, completions, { start: steadyStart, end: steadyEnd }),
    samples,
    ...(o.keepTimeline ? { timeline: completions.map((x) => ({ id: x.id, sentAt: x.at - x.latency, doneAt: x.at, trace: x.trace })) } : {}),
  };
}
