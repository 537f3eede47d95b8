// Which replica of the next stage gets a frame. Pure logic, unit-tested.
// - round-robin: in turn;
// - least-loaded: the fewest frames believed queued there: the replica's last reported queue
//   length (from its `stats` answer) plus the frames sent to it since that report;
// - when the sending stage is sharded, every shard must pick the SAME replica for a frame so the
//   shards meet there: frame id modulo the replica count, whatever the balance setting.
import type { Balance } from './config.js';

export class Balancer {
  private turn = 0;
  private readonly reported: number[];
  private readonly sentSince: number[];

  constructor(
    readonly replicas: number,
    readonly balance: Balance,
    /** true when the sending stage is sharded */
    readonly byFrameId = false,
  ) {
    if (!(Number.isInteger(replicas) && replicas >= 1)) throw new Error(`Balancer: replicas must be a positive integer, got ${replicas}`);
    this.reported = new Array<number>(replicas).fill(0);
    this.sentSince = new Array<number>(replicas).fill(0);
  }

  pick(frameId: number): number {
    let r: number;
    if (this.replicas === 1) r = 0;
    else if (this.byFrameId) r = ((frameId % this.replicas) + this.replicas) % this.replicas;
    else if (this.balance === 'round-robin') r = this.turn++ % this.replicas;
    else {
      r = 0;
      let best = Infinity;
      // Ties go round-robin from the last pick, so equal loads still spread.
      for (let k = 0; k < this.replicas; k++) {
        const i = (this.turn + k) % this.replicas;
        const load = this.load(i);
        if (load < best) {
          best = load;
          r = i;
        }
      }
      this.turn = r + 1;
    }
    this.sentSince[r]!++;
    return r;
  }

  /** A fresh report from replica r: its queue length now; frames sent before the report are in it. */
  report(r: number, queued: number): void {
    this.reported[r] = queued;
    this.sentSince[r] = 0;
  }

  load(r: number): number {
    return this.reported[r]! + this.sentSince[r]!;
  }
}
