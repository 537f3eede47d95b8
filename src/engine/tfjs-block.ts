// One block (contiguous layers, or one shard of a dense layer) as a chain of TensorFlow.js ops.
// Plain ops rather than a tfjs-layers model: a layers model first fills every kernel with its own
// initialiser and then copies ours over it (VGG16 fc1: 411 MB written twice). Measured on AlexNet
// (wasm): the same fused kernels run, so frame time is equal (35 ms CPU) and the output is
// bit-identical, while loading takes 0.7 s instead of 0.9 s even with zero initialisers; and a
// shard is simply a narrower kernel. Keras semantics: conv padding "same" with stride (TF's rule, extra pixel after), max-pool
// 2x2/2 padding "same" (ceil(h/2)), flatten in NHWC order, softmax over the last axis.
import type { Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import type { BlockRequest, LoadedBlock } from './engine.js';
import { EngineError } from './engine.js';
import { layerInfos, shardRange, size, type LayerInfo } from '../model/shapes.js';
import { biasUnits } from '../model/weights.js';
import type { Tf } from './tfjs-backend.js';
import { inputMajorKernel } from './tfjs-weights.js';

type Step = (x: Tensor) => Tensor;

/** The requested layers, checked to exist and to be contiguous in model order. */
export function selectBlockLayers(req: BlockRequest): LayerInfo[] {
  const { model, layers } = req;
  if (!Array.isArray(layers) || layers.length === 0) throw new EngineError(`a block of ${model.name} needs at least one layer`);
  const infos = layerInfos(model);
  const start = infos.findIndex((i) => i.layer.name === layers[0]);
  if (start < 0) throw new EngineError(`unknown layer "${layers[0]}" of ${model.name}; valid layers: ${infos.map((i) => i.layer.name).join(', ')}`);
  const picked = infos.slice(start, start + layers.length);
  if (picked.length !== layers.length || picked.some((p, i) => p.layer.name !== layers[i])) {
    throw new EngineError(`layers of a block must be contiguous in ${model.name}'s order, got ${layers.join(', ')}`);
  }
  return picked;
}

type UnitRange = { start: number; end: number } | null;

/** The output units [start, end) of a sharded dense block, or null for whole layers. */
function unitRange(req: BlockRequest, infos: LayerInfo[]): UnitRange {
  const last = infos[infos.length - 1]!;
  const { shard } = req;
  if (!shard || shard.count === 1) {
    if (shard && shard.index !== 0) throw new EngineError(`shard index ${shard.index} out of range for 1 shard`);
    return null;
  }
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new EngineError(`shard ${shard.index} of ${shard.count}: expected integers with 0 <= index < count`);
  }
  if (infos.length !== 1 || last.layer.type !== 'dense') {
    throw new EngineError(`only a block of exactly one dense layer can be sharded, got ${req.layers.join(', ')}`);
  }
  if (last.layer.activation === 'softmax') {
    // Softmax normalises over all units: a slice of it is not a slice of the whole layer's output.
    throw new EngineError(`dense layer ${last.layer.name} ends in softmax and cannot be split into shards`);
  }
  if (shard.count > last.layer.units!) throw new EngineError(`${shard.count} shards for the ${last.layer.units} units of ${last.layer.name}`);
  const r = shardRange(last.layer.units!, shard.index, shard.count);
  return { start: r.start, end: r.end };
}

/** Builds the block's weights in tfjs tensors and returns it ready to run. */
export function loadTfjsBlock(tf: Tf, req: BlockRequest): LoadedBlock {
  const infos = selectBlockLayers(req);
  const range = unitRange(req, infos);
  const model = req.model.name;
  const inputShape = [...infos[0]!.inShape];
  const outputShape = range ? [range.end - range.start] : [...infos[infos.length - 1]!.outShape];
  const weights: Tensor[] = [];
  const steps: Step[] = [];
  try {
    for (const info of infos) steps.push(layerStep(tf, model, info, req.seed, range, weights));
  } catch (e) {
    for (const w of weights) w.dispose();
    throw e;
  }
  const inLen = size(inputShape);
  const batchShape = [1, ...inputShape];
  let disposed = false;
  const where = `${model} ${req.layers[0]}..${req.layers[req.layers.length - 1]}`;
  return {
    inputShape,
    outputShape,
    async run(input: Float32Array): Promise<Float32Array> {
      if (disposed) throw new EngineError(`tfjs block ${where} was disposed`);
      if (!(input instanceof Float32Array)) throw new EngineError(`tfjs block ${where}: input must be a Float32Array`);
      if (input.length !== inLen) throw new EngineError(`input has ${input.length} values, block ${where} expects ${inLen} ([${inputShape.join(', ')}])`);
      const out = tf.tidy(() => steps.reduce((x, step) => step(x), tf.tensor(input, batchShape)));
      try {
        return (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      for (const w of weights) w.dispose();
      weights.length = 0;
    },
  };
}

function layerStep(tf: Tf, model: string, info: LayerInfo, seed: number, range: UnitRange, weights: Tensor[]): Step {
  const { layer } = info;
  switch (layer.type) {
    case 'conv': {
      const k = layer.kernel!;
      const filters = layer.filters!;
      const cin = info.inShape[2]!;
      const kernel = tf.tensor4d(inputMajorKernel(model, info, seed, 0, filters), [k, k, cin, filters]);
      const bias = tf.tensor1d(biasUnits(0, filters));
      weights.push(kernel, bias);
      const stride = layer.stride ?? 1;
      const act = layer.activation ?? 'relu';
      return (x) => {
        const y = tf.fused.conv2d({ x: x as Tensor4D, filter: kernel, strides: stride, pad: 'same', bias, activation: act === 'relu' ? 'relu' : 'linear' });
        return act === 'softmax' ? tf.softmax(y) : y;
      };
    }
    case 'maxpool':
      return (x) => tf.maxPool(x as Tensor4D, 2, 2, 'same');
    case 'flatten':
      return (x) => tf.reshape(x, [1, -1]);
    case 'dense': {
      // The whole layer unless this block is a shard of it.
      const start = range ? range.start : 0;
      const end = range ? range.end : layer.units!;
      const inputs = info.inShape[0]!;
      const kernel = tf.tensor2d(inputMajorKernel(model, info, seed, start, end), [inputs, end - start]);
      const bias = tf.tensor1d(biasUnits(start, end));
      weights.push(kernel, bias);
      const act = layer.activation ?? 'relu';
      return (x) => {
        const flat = x.rank === 2 ? (x as Tensor2D) : tf.reshape(x, [1, -1]);
        const y = tf.fused.matMul({ a: flat, b: kernel, bias, activation: act === 'relu' ? 'relu' : 'linear' });
        return act === 'softmax' ? tf.softmax(y) : y;
      };
    }
  }
}
