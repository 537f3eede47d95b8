// The stage graphs of a farm that runs an imported model: one ONNX file per stage, written from
// the package (engine/imported-stage.ts), named on the hosts by the hash of its content.
import { createHash } from 'node:crypto';
import { importedShardStage, importedStage } from '../engine/imported-stage.js';
import { shardRange } from '../model/shapes.js';
import { loadImportedModel, type ImportedModel } from '../model/imported.js';
import type { StageSpec } from '../model/spec.js';
import { MODELS_DIR } from '../provision/layout.js';
import type { StageGraphFile } from '../provision/types.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type StageGraph } from '../runtime/config.js';

export interface ImportedGraphs {
  model: ImportedModel;
  /** per stage, per shard: its file and how its node reads it */
  files: StageGraphFile[][];
  graphs: StageGraph[][];
  maxMessageBytes: number;
}

/** Each stage's graph (each shard's, for a split one-dense-layer stage), written from the package. */
export function importedGraphs(modelsDir: string, model: string, stages: StageSpec[], where = MODELS_DIR): ImportedGraphs {
  const m = loadImportedModel(modelsDir, model);
  const index = (t: string) => m.cuts.findIndex((c) => c.tensor === t);
  const files: StageGraphFile[][] = [];
  const graphs: StageGraph[][] = [];
  stages.forEach((s, k) => {
    const from = index(s.layers[0]!);
    const to = index(s.layers[s.layers.length - 1]!);
    const outDims = m.cuts[to]!.dims;
    files.push([]);
    graphs.push([]);
    for (let shard = 0; shard < s.shards; shard++) {
      const bytes = s.shards > 1 ? importedShardStage(modelsDir, m, from, to, shard, s.shards) : importedStage(modelsDir, m, from, to);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const path = `${where}/${sha256.slice(0, 16)}.onnx`;
      const dims = s.shards > 1 ? [...outDims.slice(0, -1), shardRange(outDims[outDims.length - 1]!, shard, s.shards).count] : outDims;
      files[k]!.push({ path, sha256, bytes });
      graphs[k]!.push({ file: path, input: m.cuts[from]!.tensor, inputDims: m.cuts[from]!.dims, outputDims: dims, ...(k === 0 ? { preprocess: { ...m.preprocess, layout: m.input.layout } } : {}) });
    }
  });
  const maxMessageBytes = Math.max(DEFAULT_MAX_MESSAGE_BYTES, Math.max(...m.cuts.map((c) => c.bytes)) + 1024 * 1024);
  return { model: m, files, graphs, maxMessageBytes };
}
