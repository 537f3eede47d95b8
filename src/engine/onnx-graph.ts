// Builds the ONNX graph of one block (a contiguous layer range, or one shard of a dense layer)
// with the deterministic weights, in memory. The wire layout is NHWC (as the paper's Keras nodes
// send); ONNX Conv and MaxPool want NCHW, so the graph transposes once on entry to the spatial
// part and once on leaving it (before flatten, so the flattened order is Keras').
import { layerInfos, shardRange, type LayerInfo } from '../model/shapes.js';
import { biasUnits, kernelUnits } from '../model/weights.js';
import type { ModelSpec } from '../model/spec.js';
import { LazyFloats, Message, TensorType, int64Tensor, model, node, tensor, valueInfo } from './onnx-proto.js';
import { EngineError } from './engine.js';

/**
 * A weight the graph takes as an input rather than an initializer: fed by reference on every run.
 * Dense layers hold nearly all of a model's bytes (VGG16 fc1: 411 MB); as initializers onnxruntime
 * would parse and copy them while we still held the protobuf, so a VGG16 fc1 half peaked at
 * ~690 MB to load. As inputs they exist once, in our Float32Array (peak ~280 MB), at the same speed:
 * a dense layer at batch 1 is a memory-bound GEMV, where onnxruntime's weight pre-packing gains
 * nothing. Conv weights stay initializers, where pre-packing does pay.
 */
export interface WeightFeed {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface BlockGraph {
  bytes: Uint8Array;
  weightFeeds: WeightFeed[];
  inputName: string;
  outputName: string;
  /** NHWC or flat, without the batch dimension */
  inputShape: number[];
  outputShape: number[];
}

/** Keras "same" padding for one axis: [before, after], the extra pixel after (TF's rule). */
function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** How many units of each conv filter to generate per piece: bounds the temporary memory. */
const PIECE_FLOATS = 1 << 20;

export function selectLayers(spec: ModelSpec, layers: string[]): LayerInfo[] {
  const infos = layerInfos(spec);
  const start = infos.findIndex((i) => i.layer.name === layers[0]);
  if (start < 0) throw new EngineError(`unknown layer "${layers[0]}" of ${spec.name}`);
  const picked = infos.slice(start, start + layers.length);
  if (picked.length !== layers.length || picked.some((p, i) => p.layer.name !== layers[i])) {
    throw new EngineError(`layers must be contiguous in ${spec.name}'s order: ${layers.join(', ')}`);
  }
  return picked;
}

export function buildBlockGraph(spec: ModelSpec, layerNames: string[], seed: number, shard?: { index: number; count: number }): BlockGraph {
  const infos = selectLayers(spec, layerNames);
  if (shard && shard.count > 1 && (infos.length !== 1 || infos[0]!.layer.type !== 'dense')) {
    throw new EngineError(`a shard must be a stage of exactly one dense layer, got ${layerNames.join(', ')}`);
  }
  const nodes: Message[] = [];
  const inits: Message[] = [];
  const weightFeeds: WeightFeed[] = [];
  const first = infos[0]!;
  const inputShape = first.inShape;
  let cur = 'input';
  let layout: 'nhwc' | 'nchw' | 'flat' = inputShape.length === 3 ? 'nhwc' : 'flat';
  let n = 0;
  const next = (base: string) => `${base}_${n++}`;
  const emit = (op: string, inputs: string[], attrs: Parameters<typeof node>[3] = []) => {
    const out = next(op.toLowerCase());
    nodes.push(node(op, inputs, [out], attrs));
    cur = out;
  };
  const toNchw = () => {
    if (layout === 'nhwc') {
      emit('Transpose', [cur], [{ name: 'perm', ints: [0, 3, 1, 2] }]);
      layout = 'nchw';
    }
  };
  const toNhwc = () => {
    if (layout === 'nchw') {
      emit('Transpose', [cur], [{ name: 'perm', ints: [0, 2, 3, 1] }]);
      layout = 'nhwc';
    }
  };
  let outputShape = infos[infos.length - 1]!.outShape;

  for (const info of infos) {
    const { layer } = info;
    switch (layer.type) {
      case 'conv': {
        toNchw();
        const [h, w, cin] = info.inShape as [number, number, number];
        const k = layer.kernel!;
        const s = layer.stride ?? 1;
        const o = layer.filters!;
        const perFilter = k * k * cin;
        const wName = `${layer.name}_W`;
        // kernelUnits gives [filter][kh][kw][cin]; ONNX wants [filter][cin][kh][kw].
        const filtersPerPiece = Math.max(1, Math.floor(PIECE_FLOATS / perFilter));
        inits.push(
          tensor(
            wName,
            [o, cin, k, k],
            TensorType.FLOAT,
            new LazyFloats(o * perFilter, (put) => {
              for (let f0 = 0; f0 < o; f0 += filtersPerPiece) {
                const f1 = Math.min(o, f0 + filtersPerPiece);
                const src = kernelUnits(spec.name, info, seed, f0, f1);
                const dst = new Float32Array(src.length);
                for (let f = 0; f < f1 - f0; f++) {
                  const base = f * perFilter;
                  for (let y = 0; y < k; y++)
                    for (let x = 0; x < k; x++)
                      for (let c = 0; c < cin; c++) dst[base + (c * k + y) * k + x] = src[base + (y * k + x) * cin + c]!;
                }
                put(dst);
              }
            }),
          ),
        );
        const bName = `${layer.name}_B`;
        inits.push(tensor(bName, [o], TensorType.FLOAT, new LazyFloats(o, (put) => put(new Float32Array(o)))));
        const [pt, pb] = samePads(h, k, s);
        const [pl, pr] = samePads(w, k, s);
        emit('Conv', [cur, wName, bName], [
          { name: 'kernel_shape', ints: [k, k] },
          { name: 'strides', ints: [s, s] },
          { name: 'pads', ints: [pt, pl, pb, pr] },
        ]);
        if (layer.activation === 'relu') emit('Relu', [cur]);
        break;
      }
      case 'maxpool': {
        toNchw();
        const [h, w] = info.inShape as [number, number, number];
        const [pt, pb] = samePads(h, 2, 2);
        const [pl, pr] = samePads(w, 2, 2);
        emit('MaxPool', [cur], [
          { name: 'kernel_shape', ints: [2, 2] },
          { name: 'strides', ints: [2, 2] },
          { name: 'pads', ints: [pt, pl, pb, pr] },
        ]);
        break;
      }
      case 'flatten': {
        toNhwc();
        const shapeName = `${layer.name}_shape`;
        inits.push(int64Tensor(shapeName, [1, -1]));
        emit('Reshape', [cur, shapeName]);
        layout = 'flat';
        break;
      }
      case 'dense': {
        if (layout !== 'flat') throw new EngineError(`dense layer ${layer.name} needs a flat input; put a flatten layer before it`);
        const inDim = info.inShape[0]!;
        const units = layer.units!;
        const range = shard && shard.count > 1 ? shardRange(units, shard.index, shard.count) : { start: 0, end: units, count: units };
        const wName = `${layer.name}_W`;
        const bName = `${layer.name}_B`;
        // kernelUnits gives [unit][in]: exactly Gemm's B with transB=1. Fed as inputs (see WeightFeed).
        weightFeeds.push({ name: wName, dims: [range.count, inDim], data: kernelUnits(spec.name, info, seed, range.start, range.end) });
        weightFeeds.push({ name: bName, dims: [range.count], data: biasUnits(range.start, range.end) });
        emit('Gemm', [cur, wName, bName], [{ name: 'transB', i: 1 }]);
        if (layer.activation === 'relu') emit('Relu', [cur]);
        else if (layer.activation === 'softmax') emit('Softmax', [cur], [{ name: 'axis', i: 1 }]);
        if (range.count !== units) outputShape = [range.count];
        break;
      }
    }
  }
  toNhwc();
  // Rename the last value to "output" with an Identity so the graph's output has a stable name.
  nodes.push(node('Identity', [cur], ['output']));
  const bytes = model({
    name: `${spec.name}:${layerNames[0]}..${layerNames[layerNames.length - 1]}`,
    nodes,
    initializers: inits,
    inputs: [valueInfo('input', [1, ...inputShape]), ...weightFeeds.map((w) => valueInfo(w.name, w.dims))],
    outputs: [valueInfo('output', [1, ...outputShape])],
  });
  return { bytes, weightFeeds, inputName: 'input', outputName: 'output', inputShape, outputShape };
}
