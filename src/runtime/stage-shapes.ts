// What a node expects on its input and produces, from the model spec and its NodeConfig.
import type { ModelSpec } from '../model/spec.js';
import { layerInfos, shardRange } from '../model/shapes.js';
import type { NodeConfig } from './config.js';
import type { DType } from './protocol.js';

export interface StageShapes {
  /** what one incoming message must hold; shape null: any (identity hop) */
  input: { dtype: DType; shape: number[] | null };
  /** with mergeFrom > 1: the shape of the part each previous shard sends, by shard */
  parts: number[][] | null;
  /** what this node sends on: null for an identity hop (its input, unchanged) */
  output: number[] | null;
}

export class StageConfigError extends Error {}

export function stageShapes(spec: ModelSpec | null, cfg: Pick<NodeConfig, 'layers' | 'shard' | 'mergeFrom' | 'stageIndex' | 'role' | 'graph'>): StageShapes {
  if (cfg.graph) return graphShapes(cfg.graph, cfg.stageIndex);
  if (!spec) throw new StageConfigError(`role ${cfg.role}: no model spec and no stage graph`);
  const infos = layerInfos(spec);
  const all = infos.map((i) => i.layer.name);
  if (cfg.layers.length === 0) {
    // An identity hop (benchmarks and protocol tests): forwards whatever it gets.
    return { input: { dtype: cfg.stageIndex === 0 ? 'uint8' : 'float32', shape: null }, parts: null, output: null };
  }
  const idx = cfg.layers.map((n) => {
    const i = all.indexOf(n);
    if (i < 0) throw new StageConfigError(`role ${cfg.role}: unknown layer "${n}" of ${spec.name}; valid layers: ${all.join(', ')}`);
    return i;
  });
  if (idx.some((v, k) => k > 0 && v !== idx[k - 1]! + 1)) throw new StageConfigError(`role ${cfg.role}: layers ${cfg.layers.join(', ')} are not contiguous in model order`);
  const first = infos[idx[0]!]!;
  const last = infos[idx[idx.length - 1]!]!;
  const atInput = idx[0] === 0;
  let parts: number[][] | null = null;
  if (cfg.mergeFrom > 1) {
    const prev = infos[idx[0]! - 1];
    if (!prev || prev.layer.type !== 'dense') throw new StageConfigError(`role ${cfg.role}: mergeFrom ${cfg.mergeFrom} but the layer before ${first.layer.name} is not a dense layer that could be sharded`);
    parts = Array.from({ length: cfg.mergeFrom }, (_, i) => [shardRange(prev.layer.units!, i, cfg.mergeFrom).count]);
  }
  let output = last.outShape;
  if (cfg.shard.count > 1) {
    if (cfg.layers.length !== 1 || last.layer.type !== 'dense') throw new StageConfigError(`role ${cfg.role}: only a stage of exactly one dense layer can be sharded`);
    output = [shardRange(last.layer.units!, cfg.shard.index, cfg.shard.count).count];
  }
  return { input: { dtype: atInput ? 'uint8' : 'float32', shape: first.inShape }, parts, output };
}

/** A stage of an imported model: the first takes the sender's uint8 pixels (HWC), the others the cut tensor. */
function graphShapes(g: NonNullable<NodeConfig['graph']>, stageIndex: number): StageShapes {
  const inner = g.inputDims.slice(1);
  const pixels = g.preprocess ? (g.preprocess.layout === 'NCHW' ? [inner[1]!, inner[2]!, inner[0]!] : inner) : inner;
  return { input: stageIndex === 0 ? { dtype: 'uint8', shape: pixels } : { dtype: 'float32', shape: inner }, parts: null, output: g.outputDims.slice(1) };
}
