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

/** A stage of an imported model: its ONNX graph, as pifarm wrote it from the model package. */
export interface GraphRequest {
  /**
   * The graph's bytes, or its file: onnxruntime reads a file itself, without a copy held in
   * JavaScript (the zoo-shaped VGG16's fc6, 411 MB: load peak 1.97x its weights from the path,
   * 2.9x from bytes; resident after it 1.0x against 2.0x)
   */
  graph: Uint8Array | string;
  input: string;
  /** shapes without the batch */
  inputShape: number[];
  outputShape: number[];
  /** the first stage: pixels (value / 255, HWC, as stageInput gives them) to the model's input */
  preprocess?: { scale: number; mean: number[]; std: number[]; bgr: boolean; layout: 'NCHW' | 'NHWC' };
  threads?: number;
}

export interface Engine {
  readonly name: EngineName;
  /** which backend really runs (for reports): e.g. "onnxruntime-node 1.30.0 cpu", "tfjs wasm" */
  describe(): string;
  load(req: BlockRequest): Promise<LoadedBlock>;
  /** imported models (the onnx engine only) */
  loadGraph?(req: GraphRequest): Promise<LoadedBlock>;
}

export class EngineError extends Error {}

/**
 * The model's input from the sender's pixels, as the first stage of an imported model needs it:
 * `pixels` are value / 255 in HWC order (stageInput); out comes (value * scale - mean) / std per
 * channel, in RGB or BGR order, in the model's layout.
 */
export function preprocessPixels(pixels: Float32Array, shape: [number, number, number], p: NonNullable<GraphRequest['preprocess']>): Float32Array {
  const [h, w, c] = shape;
  const hw = h * w;
  const out = new Float32Array(pixels.length);
  // per output channel: value = pixel * gain + offset, read from channel src (BGR swaps them)
  for (let ch = 0; ch < c; ch++) {
    const gain = (255 * p.scale) / p.std[ch]!;
    const offset = -p.mean[ch]! / p.std[ch]!;
    const src = p.bgr ? c - 1 - ch : ch;
    if (p.layout === 'NCHW') for (let i = 0, o = ch * hw; i < hw; i++) out[o + i] = pixels[i * c + src]! * gain + offset;
    else for (let i = 0; i < hw; i++) out[i * c + ch] = pixels[i * c + src]! * gain + offset;
  }
  return out;
}
