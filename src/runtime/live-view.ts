// What a run tells a live view while it goes (the implementation is src/live/, on the control
// machine): each completed frame, the nodes to watch, and the source's counters.
import type { Endpoint } from './config.js';
import type { FrameResult } from './sender.js';

export interface WatchedNode {
  /** processName: "fc1.0.s1" */
  name: string;
  role: string;
  host: string;
  endpoint: Endpoint;
}

export interface LiveView {
  onResult(r: FrameResult): void;
  /** the nodes of the run, polled for their stats (up or down, queue, service time); called again after a live move, with the new topology's name and a line that says the move */
  watch(nodes: WatchedNode[], o: { maxMessageBytes: number; secret?: Buffer; topology?: string; move?: string }): void;
  /** the source's counters and the sender's losses, as they change */
  counts(c: { offered: number; skipped: number; lost: number }): void;
}
