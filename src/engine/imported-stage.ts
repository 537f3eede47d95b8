// The ONNX model of one stage of an imported model: the nodes between two of its cut points.
import { readFileSync } from 'node:fs';
import { findCuts, stageNodes } from '../model/onnx-cuts.js';
import { graphPath, ImportedModelError, type ImportedModel } from '../model/imported.js';
import { readOnnx, tensorFloats } from '../model/onnx-read.js';
import { shardRange } from '../model/shapes.js';
import { Bytes, tensor } from './onnx-proto.js';
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

/**
 * Why the stage [from, to) cannot be split into shards by output units, or null: it must be one
 * Gemm (transA 0) whose B is a 2-D initializer, the imported twin of a built-in dense layer.
 */
export function shardProblem(modelsDir: string, pkg: ImportedModel, from: number, to: number): string | null {
  const { m, nodes } = stageParts(modelsDir, pkg, from, to);
  const body = nodes.filter((i) => !['Constant'].includes(m.nodes[i]!.op));
  const n = m.nodes[body[0]!]!;
  if (body.length !== 1 || n.op !== 'Gemm') return `the stage ${pkg.cuts[from]!.tensor}..${pkg.cuts[to]!.tensor} is not one Gemm node (only a single dense layer is split into shards)`;
  if ((n.ints.transA?.[0] ?? 0) !== 0) return `the Gemm ${n.name} transposes its input (transA); pifarm splits only plain dense layers`;
  const b = m.initializers.get(n.inputs[1]!);
  if (!b || b.dims.length !== 2) return `the Gemm ${n.name}'s weights are not a 2-D initializer`;
  return null;
}

function stageParts(modelsDir: string, pkg: ImportedModel, from: number, to: number) {
  const file = graphPath(modelsDir, pkg);
  const m = readOnnx(readFileSync(file), file);
  const g = findCuts(m, file);
  const a = g.cuts.find((c) => c.tensor === pkg.cuts[from]!.tensor)!;
  const b = g.cuts.find((c) => c.tensor === pkg.cuts[to]!.tensor)!;
  return { m, file, a, b, nodes: stageNodes(m, g, a, b) };
}

/**
 * Shard `index` of `count` of a one-Gemm stage: the same node, its weights B and bias C cut to the
 * shard's output units (shardRange, as the built-in dense layers are cut), under their own names,
 * so the node's bytes are reused as they are. The next stage merges the shards in order.
 */
export function importedShardStage(modelsDir: string, pkg: ImportedModel, from: number, to: number, index: number, count: number): Uint8Array {
  const problem = shardProblem(modelsDir, pkg, from, to);
  if (problem) throw new ImportedModelError(`${pkg.name}: ${problem}`);
  const { m, file, a, b, nodes } = stageParts(modelsDir, pkg, from, to);
  const gemm = m.nodes[nodes.find((i) => m.nodes[i]!.op === 'Gemm')!]!;
  const bt = m.initializers.get(gemm.inputs[1]!)!;
  const transB = (gemm.ints.transB?.[0] ?? 0) === 1;
  const [rows, cols] = bt.dims as [number, number];
  const units = transB ? rows : cols;
  const k = transB ? cols : rows;
  const r = shardRange(units, index, count);
  const w = tensorFloats(bt, file);
  const cut = new Float32Array(r.count * k);
  // transB: B is [units, k], a shard is a run of rows; else [k, units], a shard is a column range
  if (transB) cut.set(w.subarray(r.start * k, r.end * k));
  else for (let i = 0; i < k; i++) cut.set(w.subarray(i * units + r.start, i * units + r.end), i * r.count);
  const shard = new Map(m.initializers);
  shard.set(bt.name, { ...bt, dims: transB ? [r.count, k] : [k, r.count], raw: tensor(bt.name, transB ? [r.count, k] : [k, r.count], 1, new Bytes(new Uint8Array(cut.buffer))).finish() });
  const ct = gemm.inputs[2] ? m.initializers.get(gemm.inputs[2]) : undefined;
  if (ct && ct.dims.reduce((x, d) => x * d, 1) === units) {
    const c = tensorFloats(ct, file).slice(r.start, r.end);
    const dims = ct.dims.length === 2 ? [1, r.count] : [r.count];
    shard.set(ct.name, { ...ct, dims, raw: tensor(ct.name, dims, 1, new Bytes(new Uint8Array(c.buffer))).finish() });
  }
  const outDims = [...pkg.cuts[to]!.dims.slice(0, -1), r.count];
  return stageModel({ ...m, initializers: shard }, nodes, { name: a.tensor, dims: pkg.cuts[from]!.dims }, { name: b.tensor, dims: outDims });
}
