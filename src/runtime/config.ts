// What one node process needs to know: written by the control side (farm/ or the local demo) as
// JSON, read on the Pi by node-main. Checked at run time by validateNodeConfig (runtime helper).
import type { SelfTest } from './self-test.js';

export interface Endpoint {
  host: string;
  port: number;
}

export type Balance = 'round-robin' | 'least-loaded';

export interface NodeConfig {
  /** model name (roles/<model>.yaml) */
  model: string;
  /** the stage's role name, e.g. "block1", "fc1" */
  role: string;
  stageIndex: number;
  /** the layers this node runs, contiguous, in model order */
  layers: string[];
  /** index among the stage's data-parallel replicas */
  replica: number;
  /** model-parallel slice of a single dense layer; {0,1} when not split */
  shard: { index: number; count: number };
  /** where this node listens (0.0.0.0 on a Pi, 127.0.0.1 locally) */
  listen: Endpoint;
  /** inputs merged by frame id before compute: the previous stage's shard count (1 if none) */
  mergeFrom: number;
  /**
   * The next stage. mode "replicas": each frame goes to one endpoint (balance, or frame id modulo
   * when this stage is sharded, so all shards of a frame meet at the same replica);
   * mode "shards": each frame goes to every endpoint. null: results go to the sender.
   */
  next: NextStage | null;
  /** the initial sender's result port */
  sender: Endpoint;
  engine: 'onnx' | 'tfjs';
  /** the onnxruntime package of the host's engine build (engine/builds.ts); default onnxruntime-node */
  engineModule?: string;
  /** a known-answer frame the node runs after loading and before it says it is ready */
  selfTest?: SelfTest;
  threads?: number;
  seed: number;
  balance: Balance;
  /** larger messages close the connection */
  maxMessageBytes: number;
  /** merge buffer: frames waiting for their other shards */
  mergeTimeoutMs: number;
  mergeCapacity: number;
  /** path of the farm secret (mode 0600); absent: no authentication (local demo) */
  secretFile?: string;
  /** frames waiting for compute at most; more are dropped and counted (default 64) */
  queueCapacity?: number;
  /**
   * a next-stage replica that has not answered a probe for this long is down (default 2000): a
   * farm whose stages take seconds a frame queues probes behind frames (they share a connection)
   */
  failTimeoutMs?: number;
  /** log every frame's hop on stderr (debugging) */
  verbose?: boolean;
  /** a stage of an imported model: its ONNX graph file, instead of generated layers (layers: []) */
  graph?: StageGraph;
}

/** The ONNX model of one stage of an imported model (written by pifarm from the package). */
export interface StageGraph {
  file: string;
  /** its input tensor's name and shape (batch first) */
  input: string;
  inputDims: number[];
  outputDims: number[];
  /** the first stage turns the sender's uint8 pixels (HWC) into the model's input */
  preprocess?: { scale: number; mean: number[]; std: number[]; bgr: boolean; layout: 'NCHW' | 'NHWC' };
}

/**
 * Where a stage sends its output. With mode "shards" and a next stage that also has replicas,
 * endpoints are replica-major groups of `shardsPerReplica` (default: all endpoints are one group):
 * a frame goes to every shard of one replica group.
 */
export interface NextStage {
  role: string;
  mode: 'replicas' | 'shards';
  endpoints: Endpoint[];
  shardsPerReplica?: number;
}

export const DEFAULT_NODE_PORT = 12345;
export const DEFAULT_SENDER_PORT = 9999;
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_QUEUE_CAPACITY = 64;

export class NodeConfigError extends Error {}

/** Checks a parsed config file at run time; errors name the file and the field, and say what is expected. */
export function validateNodeConfig(raw: unknown, file: string): NodeConfig {
  const fail = (field: string, msg: string): never => {
    throw new NodeConfigError(`${file}: ${field}: ${msg}`);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('(root)', 'expected a JSON object (a NodeConfig)');
  const c = raw as Record<string, unknown>;
  const str = (k: string): string => (typeof c[k] === 'string' && c[k] !== '' ? (c[k] as string) : fail(k, 'expected a non-empty string'));
  const int = (v: unknown, field: string, min: number): number =>
    Number.isInteger(v) && (v as number) >= min ? (v as number) : fail(field, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  const endpoint = (v: unknown, field: string): Endpoint => {
    const e = v as Record<string, unknown>;
    if (!e || typeof e !== 'object' || typeof e.host !== 'string' || !e.host) fail(field, 'expected {host, port}');
    const port = int(e.port, `${field}.port`, 0);
    if (port > 65535) fail(`${field}.port`, 'expected a port number 0..65535');
    return { host: e.host as string, port };
  };
  str('model');
  str('role');
  int(c.stageIndex, 'stageIndex', 0);
  if (!Array.isArray(c.layers) || c.layers.some((l) => typeof l !== 'string')) fail('layers', 'expected a list of layer names (empty: an identity hop)');
  int(c.replica, 'replica', 0);
  const shard = c.shard as Record<string, unknown>;
  if (!shard || typeof shard !== 'object') fail('shard', 'expected {index, count}');
  const count = int(shard.count, 'shard.count', 1);
  const index = int(shard.index, 'shard.index', 0);
  if (index >= count) fail('shard.index', `expected < shard.count (${count})`);
  endpoint(c.listen, 'listen');
  int(c.mergeFrom, 'mergeFrom', 1);
  if (c.next !== null) {
    const n = c.next as Record<string, unknown>;
    if (!n || typeof n !== 'object') fail('next', 'expected {role, mode, endpoints} or null (results go to the sender)');
    if (typeof n.role !== 'string') fail('next.role', 'expected the next stage\'s role');
    if (n.mode !== 'replicas' && n.mode !== 'shards') fail('next.mode', 'expected "replicas" or "shards"');
    if (!Array.isArray(n.endpoints) || n.endpoints.length === 0) fail('next.endpoints', 'expected a non-empty list of {host, port}');
    (n.endpoints as unknown[]).forEach((e, i) => endpoint(e, `next.endpoints[${i}]`));
    if (n.shardsPerReplica !== undefined) {
      const k = int(n.shardsPerReplica, 'next.shardsPerReplica', 1);
      if ((n.endpoints as unknown[]).length % k !== 0) fail('next.shardsPerReplica', `the ${(n.endpoints as unknown[]).length} endpoints are not groups of ${k}`);
    }
  }
  endpoint(c.sender, 'sender');
  if (c.engine !== 'onnx' && c.engine !== 'tfjs') fail('engine', `unknown engine ${JSON.stringify(c.engine)}; valid engines: onnx, tfjs`);
  if (c.threads !== undefined) int(c.threads, 'threads', 1);
  int(c.seed, 'seed', 0);
  if (c.balance !== 'round-robin' && c.balance !== 'least-loaded') fail('balance', 'expected "round-robin" or "least-loaded"');
  int(c.maxMessageBytes, 'maxMessageBytes', 1024);
  int(c.mergeTimeoutMs, 'mergeTimeoutMs', 1);
  int(c.mergeCapacity, 'mergeCapacity', 1);
  if (c.secretFile !== undefined && typeof c.secretFile !== 'string') fail('secretFile', 'expected a path');
  if (c.queueCapacity !== undefined) int(c.queueCapacity, 'queueCapacity', 1);
  if (c.failTimeoutMs !== undefined) int(c.failTimeoutMs, 'failTimeoutMs', 1);
  if (c.verbose !== undefined && typeof c.verbose !== 'boolean') fail('verbose', 'expected true or false');
  if (c.engineModule !== undefined && (typeof c.engineModule !== 'string' || !/^[@a-z0-9][\w./@-]*$/.test(c.engineModule))) fail('engineModule', 'expected a package name');
  if (c.selfTest !== undefined) {
    const st = c.selfTest as Record<string, unknown>;
    const nums = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number');
    if (!st || typeof st !== 'object' || !Number.isInteger(st.inputSeed) || !nums(st.indices) || !nums(st.values) || (st.indices as number[]).length !== (st.values as number[]).length
      || typeof st.absSum !== 'number' || typeof st.tolerance !== 'number' || typeof st.reference !== 'string') {
      fail('selfTest', 'expected {inputSeed, indices, values, absSum, tolerance, reference} (written by pifarm deploy)');
    }
  }
  if (c.graph !== undefined) {
    const g = c.graph as Record<string, unknown>;
    const dims = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && (x as number) > 0);
    if (!g || typeof g !== 'object' || typeof g.file !== 'string' || typeof g.input !== 'string' || !dims(g.inputDims) || !dims(g.outputDims)) fail('graph', 'expected {file, input, inputDims, outputDims} (written by pifarm for a stage of an imported model)');
  }
  return c as unknown as NodeConfig;
}
