// The ONNX model of one stage of an imported model: the nodes between two of its cut points.
import { readFileSync } from 'node:fs';
import { findCuts, stageNodes } from '../model/onnx-cuts.js';
import { graphPath, ImportedModelError, type ImportedModel } from '../model/imported.js';
import { readOnnx } from '../model/onnx-read.js';
import { stageModel } from './onnx-stage.js';

/** Stage [from, to) in cut indexes (0 = the input, cuts.length - 1 = the output). */
export function importedStage(modelsDir: string, pkg: ImportedModel, from: number, to: number): Uint8Array {
  if (!(from >= 0 && to < pkg.cuts.length && from < to)) throw new ImportedModelError(`${pkg.name}: no stage from cut ${from} to cut ${to}; the model has cuts 0..${pkg.cuts.length - 1}`);
  const file = graphPath(modelsDir, pkg);
  const m = readOnnx(readFileSync(file), file);
  const g = findCuts(m, file);
  const a = g.cuts.find((c) => c.tensor === pkg.cuts[from]!.tensor);
  const b = g.cuts.find((c) => c.tensor === pkg.cuts[to]!.tensor);
  if (!a || !b) throw new ImportedModelError(`${file}: its cut points are not the package's (${pkg.name} was imported from another graph); import it again`);
  return stageModel(m, stageNodes(m, g, a, b), { name: a.tensor, dims: pkg.cuts[from]!.dims }, { name: b.tensor, dims: pkg.cuts[to]!.dims });
}
