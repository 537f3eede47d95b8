// The sender's way into the pipeline, one per topology epoch. A live move (the elastic
// controller, elastic/) starts a new topology beside the old one and opens a new epoch on its
// first stage: new frames enter the new topology, frames already in the old one finish there (a
// frame finishes on the topology it started on), and both send their results to the same result
// port. An epoch retired because a host was lost hands back its frames in flight, which the
// sender re-sends into the current epoch (a duplicate result is counted once, by frame id).
import { ReplicaSet, type FailoverStats } from './failover.js';
import type { Balance, NextStage } from './config.js';
import { Peer } from './peer.js';
import type { Frame } from './protocol.js';

export interface EpochOptions {
  maxMessageBytes: number;
  balance: Balance;
  /** frames remembered per replica for failover inside an epoch */
  window: number;
  probeMs?: number;
  failTimeoutMs?: number;
  secret?: Buffer;
  log: (m: string) => void;
}

interface Epoch {
  n: number;
  peers: Peer[];
  replicas: ReplicaSet;
  /** wire ids of the frames that entered here and have no result yet */
  frames: Set<number>;
  closed: boolean;
}

export class SenderEpochs {
  private readonly epochs: Epoch[] = [];
  /** wire id -> the epoch it entered */
  private readonly entered = new Map<number, Epoch>();

  constructor(private readonly o: EpochOptions, first: NextStage) {
    this.open(first);
  }

  get current(): number {
    return this.epochs[this.epochs.length - 1]!.n;
  }

  /** A new topology's first stage: frames sent from now on enter it. Returns its epoch. */
  open(first: NextStage): number {
    const o = this.o;
    const peers = first.endpoints.map((e) => new Peer(e, o.maxMessageBytes, o.log, o.secret));
    const group = first.mode === 'shards' ? first.shardsPerReplica ?? peers.length : 1;
    const replicas = new ReplicaSet({ peers, group, balance: o.balance, window: o.window, probeMs: o.probeMs, failTimeoutMs: o.failTimeoutMs, log: o.log });
    const n = this.epochs.length;
    this.epochs.push({ n, peers, replicas, frames: new Set(), closed: false });
    return n;
  }

  /** Sends into the current epoch; false when none of its first-stage replicas is up. */
  send(frame: Frame): boolean {
    const e = this.epochs[this.epochs.length - 1]!;
    this.entered.get(frame.id)?.frames.delete(frame.id);
    const ok = e.replicas.send(frame);
    if (ok) {
      e.frames.add(frame.id);
      this.entered.set(frame.id, e);
    }
    return ok;
  }

  /** The frame's result came back, or the sender gave it up. */
  done(wireId: number): void {
    const e = this.entered.get(wireId);
    if (!e) return;
    e.replicas.done(wireId);
    e.frames.delete(wireId);
    this.entered.delete(wireId);
  }

  /** Frames that entered epoch n and have no result yet. */
  inFlight(n: number): number[] {
    return [...(this.epochs[n]?.frames ?? [])];
  }

  /** Stops sending to epoch n (its processes are about to stop); returns the frames still in it. */
  close(n: number): number[] {
    const e = this.epochs[n];
    if (!e || e.closed || n === this.current) return [];
    e.closed = true;
    e.replicas.close();
    for (const p of e.peers) p.close();
    const left = [...e.frames];
    for (const id of left) this.entered.delete(id);
    e.frames.clear();
    return left;
  }

  /** The current epoch's first-stage replicas (least-loaded balancing polls them). */
  get replicas(): ReplicaSet {
    return this.epochs[this.epochs.length - 1]!.replicas;
  }

  get peers(): Peer[] {
    return this.epochs.flatMap((e) => e.peers);
  }

  /** Failover over every epoch; `up` is the current epoch's. */
  stats(): FailoverStats {
    const all = this.epochs.map((e) => e.replicas.stats());
    return { downs: all.reduce((a, s) => a + s.downs, 0), resent: all.reduce((a, s) => a + s.resent, 0), unplaced: all.reduce((a, s) => a + s.unplaced, 0), up: all[all.length - 1]!.up };
  }

  closeAll(): void {
    for (const e of this.epochs) {
      e.replicas.close();
      for (const p of e.peers) p.close();
    }
  }
}
