// What one node process needs to know: written by the control side (farm/ or the local demo) as
// JSON, read on the Pi by node-main. Checked at run time by validateNodeConfig (runtime helper).

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
  next: { role: string; mode: 'replicas' | 'shards'; endpoints: Endpoint[] } | null;
  /** the initial sender's result port */
  sender: Endpoint;
  engine: 'onnx' | 'tfjs';
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
}
