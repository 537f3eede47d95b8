// The NodeConfig of a test node on 127.0.0.1: an identity hop at stage 0 of AlexNet unless told
// otherwise; every runtime test builds its nodes' configs here.
import type { NodeConfig } from '../../src/runtime/config.js';

export function nodeConfig(over: Partial<NodeConfig> & Pick<NodeConfig, 'listen' | 'sender'>): NodeConfig {
  return {
    model: 'alexnet', role: 'echo', stageIndex: 0, layers: [], replica: 0, shard: { index: 0, count: 1 }, mergeFrom: 1, next: null,
    engine: 'onnx', seed: 2018, balance: 'round-robin', maxMessageBytes: 1 << 22, mergeTimeoutMs: 1000, mergeCapacity: 8, ...over,
  };
}

/** A local endpoint. */
export const at = (port: number) => ({ host: '127.0.0.1', port });
