// Data-parallel failover: the replicas of the next stage as seen by their upstream (the sender or a
// node). Each frame goes to a live replica (all shards of one replica group when the next stage is
// sharded); the frames each replica has in flight are remembered, bounded per replica. A replica
// is declared down when its connection is lost, or when it does not answer a health probe within
// failTimeoutMs (a powered-off host or a lost Wi-Fi sends no FIN). Its frames in flight are then
// re-sent to the survivors — duplicates are harmless, the sender counts a frame id once and a
// merge ignores a late shard. A down replica is probed every probeMs and used again as soon as it
// answers ready (restarted by systemd, host back), without restarting anything else.
//
// In flight means: the sender removes a frame when its result comes back (exact). A node learns
// nothing back, so it keeps the last `window` frames it sent to each replica: on a loss those are
// re-sent (some may have been done already and come back as duplicates), which bounds the loss by
// the replica's queue beyond that window, and the memory by window x frame size per replica.
import { Balancer } from './balancer.js';
import type { Balance } from './config.js';
import type { Peer } from './peer.js';
import type { Frame } from './protocol.js';

export interface FailoverOptions {
  /** replica-major groups of `group` peers (shards of one replica); group 1: one peer per replica */
  peers: Peer[];
  group: number;
  balance: Balance;
  /** the sending stage is sharded: every shard must pick the same replica for a frame */
  byFrameId?: boolean;
  /** frames remembered per replica (default 16) */
  window?: number;
  /** health probe period, and of a down replica's re-probe (default 500 ms) */
  probeMs?: number;
  /** an up replica that does not answer a probe within this is down (default 2000 ms; a node computes in a worker thread and answers at once) */
  failTimeoutMs?: number;
  log?: (msg: string) => void;
}

interface Replica {
  up: boolean;
  /** frames sent and not known to be done, in send order */
  inflight: Map<number, Frame>;
  probing: boolean;
  /** had a connection once: losing it means the replica went away */
  wasConnected: boolean;
  downs: number;
  /** the replica's mean compute time per frame, from its last answer (ms) */
  serviceMs: number;
}

export interface FailoverStats {
  /** times a replica was declared down */
  downs: number;
  /** frames re-sent to a survivor */
  resent: number;
  /** frames no replica could take (all down) when they were first sent */
  unplaced: number;
  /** replicas up now, by index */
  up: boolean[];
}

export class ReplicaSet {
  readonly balancer: Balancer;
  private readonly replicas: Replica[];
  private readonly timer: NodeJS.Timeout;
  private readonly log: (m: string) => void;
  private readonly window: number;
  private readonly failTimeoutMs: number;
  private closed = false;
  resent = 0;
  unplaced = 0;

  constructor(private readonly o: FailoverOptions) {
    const n = o.peers.length / o.group;
    if (!Number.isInteger(n) || n < 1) throw new Error(`ReplicaSet: ${o.peers.length} peers are not groups of ${o.group}`);
    this.balancer = new Balancer(n, o.balance, o.byFrameId ?? false);
    this.replicas = Array.from({ length: n }, () => ({ up: true, inflight: new Map(), probing: false, wasConnected: false, downs: 0, serviceMs: 0 }));
    this.log = o.log ?? (() => {});
    this.window = Math.max(1, o.window ?? 16);
    // a silent host (powered off, no FIN) is called down within this of its last answer
    this.failTimeoutMs = o.failTimeoutMs ?? 2000;
    const probeMs = o.probeMs ?? 500;
    // Connection loss is checked often (cheap); probes go out every probeMs.
    let tick = 0;
    const every = Math.max(1, Math.round(probeMs / 50));
    this.timer = setInterval(() => {
      this.checkConnections();
      if (++tick % every === 0) this.probe();
    }, 50);
    this.timer.unref();
  }

  get count(): number {
    return this.replicas.length;
  }

  peersOf(r: number): Peer[] {
    return this.o.peers.slice(r * this.o.group, (r + 1) * this.o.group);
  }

  isUp(r: number): boolean {
    return this.replicas[r]!.up;
  }

  /** Least-loaded balancing over replicas that do not report their queues by themselves. */
  get wantsLoadPolls(): boolean {
    return this.balancer.balance === 'least-loaded' && this.balancer.replicas > 1 && !this.balancer.byFrameId;
  }

  /** Asks every live replica's first shard for its queue and tells the balancer (both the sender and a node call it every 50 ms). */
  pollLoads(): void {
    for (let r = 0; r < this.balancer.replicas; r++) {
      if (!this.isUp(r)) continue;
      this.peersOf(r)[0]!.stats(1000).then(
        (s) => this.balancer.report(r, s.queued),
        () => {},
      );
    }
  }

  stats(): FailoverStats {
    return { downs: this.replicas.reduce((a, r) => a + r.downs, 0), resent: this.resent, unplaced: this.unplaced, up: this.replicas.map((r) => r.up) };
  }

  /**
   * Sends a frame to a live replica; false when none is up. A frame re-sent after a loss that no
   * replica can take is not counted here: it was sent once, and is counted where it was lost (a
   * merge missing its shard, or the sender's timeout).
   */
  send(frame: Frame, resend = false): boolean {
    const r = this.pick(frame.id);
    if (r < 0) {
      if (!resend) this.unplaced++;
      return false;
    }
    const rep = this.replicas[r]!;
    let ok = true;
    for (const p of this.peersOf(r)) ok = p.forward(frame) && ok;
    // from now on, losing the connection (refused, reset, closed) means the replica went away
    rep.wasConnected = true;
    rep.inflight.set(frame.id, frame);
    while (rep.inflight.size > this.window) rep.inflight.delete(rep.inflight.keys().next().value as number);
    if (!ok) this.down(r, 'not connected');
    return true;
  }

  /** The frame's result came back (sender): it is no longer in flight anywhere. */
  done(id: number): void {
    for (const rep of this.replicas) rep.inflight.delete(id);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const rep of this.replicas) rep.inflight.clear();
  }

  private pick(id: number): number {
    const up = this.replicas.map((r, i) => (r.up ? i : -1)).filter((i) => i >= 0);
    if (up.length === 0) return -1;
    if (up.length === this.replicas.length) return this.balancer.pick(id);
    // Shards of a sharded stage pick alike: the same id over the same live set gives the same replica.
    if (this.balancer.byFrameId) return up[((id % up.length) + up.length) % up.length]!;
    for (let k = 0; k < this.replicas.length; k++) {
      const r = this.balancer.pick(id);
      if (this.replicas[r]!.up) return r;
    }
    return up[0]!;
  }

  private checkConnections(): void {
    this.replicas.forEach((rep, r) => {
      const connected = this.peersOf(r).every((p) => p.connected);
      if (connected) rep.wasConnected = true;
      else if (rep.up && rep.wasConnected) this.down(r, 'connection lost');
    });
  }

  private probe(): void {
    this.replicas.forEach((rep, r) => {
      if (rep.probing || this.closed) return;
      // an up replica that was never used needs no probe: its first frame connects it
      if (rep.up && !rep.wasConnected) return;
      rep.probing = true;
      // a node computes in a worker thread, so its loop answers a probe at once, busy or not
      const timeout = this.failTimeoutMs;
      Promise.all(this.peersOf(r).map((p) => p.stats(timeout)))
        .then(
          (all) => {
            rep.serviceMs = Math.max(...all.map((s) => (s.computed > 0 ? s.busyMs / s.computed : 0)));
            if (!rep.up && all.every((s) => s.ready) && !this.closed) {
              rep.up = true;
              rep.wasConnected = this.peersOf(r).every((p) => p.connected);
              this.log(`replica ${r} (${this.names(r)}) is back: used again`);
            }
          },
          (e: Error) => {
            if (rep.up) this.down(r, `no answer: ${e.message}`);
          },
        )
        .finally(() => (rep.probing = false));
    });
  }

  private down(r: number, why: string): void {
    const rep = this.replicas[r]!;
    if (!rep.up || this.closed) return;
    rep.up = false;
    rep.downs++;
    rep.wasConnected = false;
    for (const p of this.peersOf(r)) p.close();
    const frames = [...rep.inflight.values()];
    rep.inflight.clear();
    let resent = 0;
    for (const f of frames) {
      if (this.send(f, true)) resent++;
    }
    this.resent += resent;
    this.log(`replica ${r} (${this.names(r)}) is down (${why}): ${resent} of ${frames.length} frame(s) in flight re-sent to ${this.replicas.filter((x) => x.up).length} live replica(s)`);
  }

  private names(r: number): string {
    return this.peersOf(r).map((p) => p.name).join(', ');
  }
}
