// The Engine interface: load one block (a contiguous layer range, optionally one shard of a dense
// layer) with the deterministic weights, then run frames through it. Tensors are float32 NHWC
// without the batch dimension, the layout the paper's Keras nodes send on the wire.
import type { ModelSpec } from '../model/spec.js';

export type EngineName = 'onnx' | 'tfjs';
export const ENGINE_NAMES: EngineName[] = ['onnx', 'tfjs'];

export interface BlockRequest {
  model: ModelSpec;
  /** layer names, contiguous, in model order */
  layers: string[];
  /** for a stage of one dense layer split by output units */
  shard?: { index: number; count: number };
  /** weights seed, the same on every host of a farm */
  seed: number;
  /** intra-op threads; default: what the engine picks */
  threads?: number;
}

export interface LoadedBlock {
  readonly inputShape: number[];
  readonly outputShape: number[];
  /** input length must equal the product of inputShape */
  run(input: Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface Engine {
  readonly name: EngineName;
  /** which backend really runs (for reports): e.g. "onnxruntime-node 1.30.0 cpu", "tfjs wasm" */
  describe(): string;
  load(req: BlockRequest): Promise<LoadedBlock>;
}

export class EngineError extends Error {}
