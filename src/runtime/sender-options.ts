// What a sender run is given: where to send and listen, how many frames and how (closed loop or a
// rate), the source of the frames, what to keep, and the hooks of results files and the live view.
import type { Balance, Endpoint, NextStage } from './config.js';
import type { FrameSource } from './frame-source.js';
import type { Hop } from './protocol.js';

export interface SenderOptions {
  /** the model's input [h, w, c] */
  input: [number, number, number];
  /** the first stage */
  first: NextStage;
  /** shard count of the last stage (results say theirs; kept for callers) */
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
  /** failover: a first-stage replica that does not answer a probe within this is down (default 2 s) */
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
  /** frames from photos, a video or a camera instead of random ones (frames: at most this many) */
  source?: FrameSource;
  /** called for every completed frame as it completes, with its output (results files, the live view) */
  onResult?: (r: FrameResult) => void;
  /** also hand each completed frame's input to onResult (the live view shows the latest) */
  resultInputs?: boolean;
  /** keep every source frame's input while it is in flight, so a live move can re-send it */
  keepInputs?: boolean;
  /** real time: a frame not back this long after it was sent is given up and counted as past its deadline */
  deadlineMs?: number;
  /** the running counts, ten times a second (the live view) */
  onCounts?: (c: { offered: number; skipped: number; lost: number }) => void;
}

export interface FrameResult {
  /** frame id, from 0 */
  id: number;
  /** the source's name for it (a file name), or "random" */
  name: string;
  latencyMs: number;
  output: Float32Array;
  trace: Hop[];
  /** with resultInputs: the frame as sent (uint8 HWC) */
  input?: Uint8Array;
}

export function defaultSampleIds(frames: number, n = 5): number[] {
  const k = Math.min(n, frames);
  return [...new Set(Array.from({ length: k }, (_, i) => Math.floor(((frames - 1) * i) / Math.max(1, k - 1))))];
}

/** Frames whose outputs are checked: with a source, its first ones (their inputs are kept), else spread over the run. */
export function sampleIdsFor(frames: number, source: boolean, n = 3): number[] {
  return source ? Array.from({ length: Math.min(frames, 20) }, (_, i) => i) : defaultSampleIds(frames, n);
}
