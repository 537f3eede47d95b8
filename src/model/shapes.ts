// Shapes, work and sizes of every layer and stage, computed from the spec alone (no weights).
// Tensors are NHWC without the batch dimension, float32 on the wire and in memory.
import type { LayerSpec, ModelSpec, StageSpec } from './spec.js';

export const FLOAT_BYTES = 4;

export interface LayerInfo {
  layer: LayerSpec;
  index: number;
  inShape: number[];
  outShape: number[];
  /** multiply-accumulates per frame */
  macs: number;
  params: number;
  paramBytes: number;
  outBytes: number;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Output shape of one layer (Keras semantics: padding "same" for conv and pool, 2x2/2 pool). */
export function outputShape(layer: LayerSpec, inShape: readonly number[]): number[] {
  switch (layer.type) {
    case 'conv': {
      const [h, w] = inShape as [number, number, number];
      const s = layer.stride ?? 1;
      return [Math.ceil(h / s), Math.ceil(w / s), layer.filters!];
    }
    case 'maxpool': {
      const [h, w, c] = inShape as [number, number, number];
      // Keras MaxPooling2D default padding is "valid"; for even sizes it equals "same".
      // The paper's nets keep "same", so odd sizes round up.
      return [Math.ceil(h / 2), Math.ceil(w / 2), c];
    }
    case 'flatten':
      return [size(inShape)];
    case 'dense':
      if (inShape.length !== 1) throw new Error(`dense layer ${layer.name} needs a flat input, got [${inShape.join(', ')}]; add a flatten layer before it`);
      return [layer.units!];
  }
}

export function layerInfos(spec: ModelSpec): LayerInfo[] {
  let shape: number[] = [...spec.input];
  return spec.layers.map((layer, index) => {
    const inShape = shape;
    const outShape = outputShape(layer, inShape);
    let macs = 0;
    let params = 0;
    if (layer.type === 'conv') {
      const cin = inShape[2]!;
      const k = layer.kernel!;
      macs = outShape[0]! * outShape[1]! * outShape[2]! * k * k * cin;
      params = k * k * cin * layer.filters! + layer.filters!;
    } else if (layer.type === 'dense') {
      macs = inShape[0]! * layer.units!;
      params = inShape[0]! * layer.units! + layer.units!;
    }
    shape = outShape;
    return { layer, index, inShape, outShape, macs, params, paramBytes: params * FLOAT_BYTES, outBytes: size(outShape) * FLOAT_BYTES };
  });
}

export interface StageInfo {
  stage: StageSpec;
  layers: LayerInfo[];
  inShape: number[];
  /** the shape one shard or replica produces */
  outShape: number[];
  /** the merged output of all shards, what the next stage receives */
  mergedOutShape: number[];
  /** per frame, per shard (a shard does 1/shards of the work) */
  macs: number;
  /** weights one process holds */
  paramBytes: number;
  /** bytes this stage sends on per frame, all shards together */
  outBytes: number;
  /** bytes this stage receives per frame, all shards together (each shard gets a full copy) */
  inBytes: number;
  /** the largest activation the stage holds at once (input or output of one layer) */
  peakActivationBytes: number;
}

/** Infos for a stage list (checked elsewhere to cover the model in order). */
export function stageInfos(spec: ModelSpec, stages: StageSpec[]): StageInfo[] {
  const infos = layerInfos(spec);
  const byName = new Map(infos.map((i) => [i.layer.name, i]));
  return stages.map((stage) => {
    const ls = stage.layers.map((n) => {
      const li = byName.get(n);
      if (!li) throw new Error(`stage ${stage.role}: unknown layer "${n}" of ${spec.name}`);
      return li;
    });
    const first = ls[0]!;
    const last = ls[ls.length - 1]!;
    const k = stage.shards;
    const shardUnits = k > 1 ? shardRange(last.layer.units!, 0, k).count : 0;
    const outShape = k > 1 ? [shardUnits] : last.outShape;
    const macs = ls.reduce((a, l) => a + l.macs, 0) / k;
    const paramBytes = ls.reduce((a, l) => a + l.paramBytes, 0) / k;
    let peak = size(first.inShape) * FLOAT_BYTES;
    for (const l of ls) peak = Math.max(peak, l.outBytes);
    return {
      stage,
      layers: ls,
      inShape: first.inShape,
      outShape,
      mergedOutShape: last.outShape,
      macs,
      paramBytes,
      outBytes: last.outBytes,
      inBytes: size(first.inShape) * FLOAT_BYTES * k,
      peakActivationBytes: peak,
    };
  });
}

/** The output units shard `index` of `count` owns: contiguous, sizes differing by at most one. */
export function shardRange(units: number, index: number, count: number): { start: number; end: number; count: number } {
  const base = Math.floor(units / count);
  const extra = units % count;
  const start = index * base + Math.min(index, extra);
  const n = base + (index < extra ? 1 : 0);
  return { start, end: start + n, count: n };
}

export function totals(spec: ModelSpec): { macs: number; params: number; paramBytes: number } {
  const infos = layerInfos(spec);
  return {
    macs: infos.reduce((a, l) => a + l.macs, 0),
    params: infos.reduce((a, l) => a + l.params, 0),
    paramBytes: infos.reduce((a, l) => a + l.paramBytes, 0),
  };
}
