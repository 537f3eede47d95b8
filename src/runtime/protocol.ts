// The wire protocol between the sender and the nodes: one Avro IPC protocol (avsc), spoken over
// persistent TCP connections with stateful channels. Frames travel as one-way `forward` messages
// so the pipeline streams (the sender never waits for a reply); `stats` is the only two-way call
// (readiness, load for least-loaded balancing, resident memory for the report).
//
// Tensors are raw little-endian bytes with their shape and dtype: uint8 for the camera frame
// (224x224x3, what the sender sends to the first stage), float32 NHWC for everything else.
import avro from 'avsc';
import './avro-bounds.js'; // bounded array/map block counts before any untrusted byte is decoded

export const PROTOCOL = {
  protocol: 'PiFarm',
  namespace: 'org.pifarm',
  types: [
    { type: 'enum', name: 'DType', symbols: ['float32', 'uint8'] },
    {
      type: 'record',
      name: 'Tensor',
      fields: [
        { name: 'dtype', type: 'DType' },
        { name: 'shape', type: { type: 'array', items: 'int' } },
        { name: 'data', type: 'bytes' },
      ],
    },
    {
      type: 'record',
      name: 'Hop',
      doc: 'one stage a frame went through; times in ms since the epoch on that host\'s clock',
      fields: [
        { name: 'role', type: 'string' },
        { name: 'replica', type: 'int' },
        { name: 'shard', type: 'int' },
        { name: 'host', type: 'string' },
        { name: 'arrival', type: 'double' },
        { name: 'start', type: 'double' },
        { name: 'end', type: 'double' },
      ],
    },
    {
      type: 'record',
      name: 'Frame',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'sentAt', type: 'double', doc: 'ms since the epoch on the sender\'s clock' },
        { name: 'fromShard', type: 'int', doc: 'the shard of the previous stage that produced this tensor' },
        { name: 'shardCount', type: 'int', doc: 'how many shards the previous stage has' },
        { name: 'tensor', type: 'Tensor' },
        { name: 'trace', type: { type: 'array', items: 'Hop' } },
      ],
    },
    {
      type: 'record',
      name: 'NodeStats',
      fields: [
        { name: 'role', type: 'string' },
        { name: 'replica', type: 'int' },
        { name: 'shard', type: 'int' },
        { name: 'host', type: 'string' },
        { name: 'ready', type: 'boolean' },
        { name: 'engine', type: 'string' },
        { name: 'rssBytes', type: 'long' },
        { name: 'peakRssBytes', type: 'long' },
        { name: 'received', type: 'long' },
        { name: 'computed', type: 'long' },
        { name: 'refused', type: 'long', doc: 'frames of the wrong size, shape or dtype' },
        { name: 'queueDropped', type: 'long', doc: 'frames dropped because the input queue was full' },
        { name: 'mergeDropped', type: 'long', doc: 'frames dropped because a shard never arrived' },
        { name: 'sendFailed', type: 'long', doc: 'outputs lost because the next stage could not be reached' },
        { name: 'queued', type: 'int' },
        { name: 'busyMs', type: 'double' },
        { name: 'cpuMs', type: 'double', doc: 'CPU time of the process (user + system), all threads' },
        { name: 'uptimeMs', type: 'double' },
        { name: 'loadMs', type: 'double' },
        { name: 'error', type: ['null', 'string'], default: null },
      ],
    },
  ],
  messages: {
    forward: { request: [{ name: 'frame', type: 'Frame' }], response: 'null', 'one-way': true },
    stats: { request: [], response: 'NodeStats' },
  },
};

export const service = avro.Service.forProtocol(PROTOCOL);

export type DType = 'float32' | 'uint8';

export interface Tensor {
  dtype: DType;
  shape: number[];
  data: Buffer;
}

export interface Hop {
  role: string;
  replica: number;
  shard: number;
  host: string;
  arrival: number;
  start: number;
  end: number;
}

export interface Frame {
  id: number;
  sentAt: number;
  fromShard: number;
  shardCount: number;
  tensor: Tensor;
  trace: Hop[];
}

export interface NodeStats {
  role: string;
  replica: number;
  shard: number;
  host: string;
  ready: boolean;
  engine: string;
  rssBytes: number;
  peakRssBytes: number;
  received: number;
  computed: number;
  refused: number;
  queueDropped: number;
  mergeDropped: number;
  sendFailed: number;
  queued: number;
  busyMs: number;
  cpuMs: number;
  uptimeMs: number;
  loadMs: number;
  error: string | null;
}

/** Wall-clock ms with sub-ms resolution, comparable between processes of one host. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
