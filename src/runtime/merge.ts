// Merge of model-parallel shards by frame id. The stage after a sharded stage receives one
// message per shard and per frame; it may compute a frame only once every shard OF THAT FRAME is
// there. A frame whose shards do not all arrive within the timeout, or that is pushed out of the
// bounded buffer, is dropped and counted: it is never completed with another frame's shard (the
// original artifact merged "whatever two halves arrived" and counted each result twice).
// Pure logic with an injectable clock, so it is unit-tested without sockets.

export type DropReason = 'timeout' | 'capacity';

export interface MergeOptions {
  /** how many shards each frame has */
  shards: number;
  /** frames waiting at most */
  capacity: number;
  timeoutMs: number;
  now?: () => number;
  onDrop?: (id: number, reason: DropReason, have: number) => void;
}

interface Pending<T> {
  parts: (T | undefined)[];
  have: number;
  since: number;
}

export class MergeBuffer<T> {
  private readonly pending = new Map<number, Pending<T>>();
  /** ids recently completed or dropped: a late shard of one of them is ignored, not re-buffered */
  private readonly finished = new Set<number>();
  private readonly finishedOrder: number[] = [];
  private readonly now: () => number;
  dropped = 0;
  duplicates = 0;
  late = 0;
  merged = 0;

  constructor(private readonly opts: MergeOptions) {
    if (!(opts.shards >= 1 && opts.capacity >= 1 && opts.timeoutMs > 0)) throw new Error('MergeBuffer: shards, capacity >= 1 and timeoutMs > 0');
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Adds one shard of a frame; returns every part in shard order when the frame is complete. */
  add(id: number, shard: number, part: T): T[] | null {
    const { shards } = this.opts;
    if (!Number.isInteger(shard) || shard < 0 || shard >= shards) throw new Error(`shard ${shard} of frame ${id} is outside 0..${shards - 1}`);
    if (this.finished.has(id)) {
      this.late++;
      return null;
    }
    this.sweep();
    let p = this.pending.get(id);
    if (!p) {
      if (shards === 1) return this.complete(id, [part]);
      while (this.pending.size >= this.opts.capacity) {
        const oldest = this.pending.keys().next().value as number;
        this.drop(oldest, 'capacity');
      }
      p = { parts: new Array<T | undefined>(shards), have: 0, since: this.now() };
      this.pending.set(id, p);
    }
    if (p.parts[shard] !== undefined) {
      this.duplicates++;
      return null;
    }
    p.parts[shard] = part;
    p.have++;
    if (p.have < shards) return null;
    this.pending.delete(id);
    return this.complete(id, p.parts as T[]);
  }

  /** Drops frames that waited longer than the timeout; returns their ids. */
  sweep(): number[] {
    const limit = this.now() - this.opts.timeoutMs;
    const out: number[] = [];
    // Map keeps insertion order, which is arrival order: stop at the first young entry.
    for (const [id, p] of this.pending) {
      if (p.since > limit) break;
      out.push(id);
    }
    for (const id of out) this.drop(id, 'timeout');
    return out;
  }

  private drop(id: number, reason: DropReason): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.dropped++;
    this.remember(id);
    this.opts.onDrop?.(id, reason, p.have);
  }

  private complete(id: number, parts: T[]): T[] {
    this.merged++;
    if (this.opts.shards > 1) this.remember(id);
    return parts;
  }

  private remember(id: number): void {
    this.finished.add(id);
    this.finishedOrder.push(id);
    const keep = Math.max(1024, this.opts.capacity * 8);
    while (this.finishedOrder.length > keep) this.finished.delete(this.finishedOrder.shift()!);
  }
}
