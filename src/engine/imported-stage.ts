// The ONNX model of one stage of an imported model: the nodes between two of its cut points.
import { readFileSync } from 'node:fs';
import { findCuts, stageNodes } from '../model/onnx-cuts.js';
import { graphPath, ImportedModelError, type ImportedModel } from '../model/imported.js';
import { readOnnx, tensorFloats, type OnnxModel } from '../model/onnx-read.js';
import { shardRange } from '../model/shapes.js';
import { Bytes, tensor } from './onnx-proto.js';
import { stageModel } from './onnx-stage.js';

/** Stage [from, to) in cut indexes (0 = the input, cuts.length - 1 = the output). */
export function importedStage(modelsDir: string, pkg: ImportedModel, from: number, to: number): Uint8Array {
  return importedStages(modelsDir, pkg)(from, to);
}

/** The package's graph read once, to cut many stages from (the profiler cuts every range: a VGG16 is 553 MB to read). */
export function importedStages(modelsDir: string, pkg: ImportedModel): (from: number, to: number) => Uint8Array {
  const file = graphPath(modelsDir, pkg);
  const m = readOnnx(readFileSync(file), file);
  const g = findCuts(m, file);
  return (from, to) => {
    if (!(from >= 0 && to < pkg.cuts.length && from < to)) throw new ImportedModelError(`${pkg.name}: no stage from cut ${from} to cut ${to}; the model has cuts 0..${pkg.cuts.length - 1}`);
    const a = g.cuts.find((c) => c.tensor === pkg.cuts[from]!.tensor);
    const b = g.cuts.find((c) => c.tensor === pkg.cuts[to]!.tensor);
    if (!a || !b) throw new ImportedModelError(`${file}: its cut points are not the package's (${pkg.name} was imported from another graph); import it again`);
    return stageModel(m, stageNodes(m, g, a, b), { name: a.tensor, dims: pkg.cuts[from]!.dims }, { name: b.tensor, dims: pkg.cuts[to]!.dims });
  };
}

/** A stage's dense layer: its weights B (transposed or not) and its bias, initializers all. */
export interface DenseLayer {
  weights: string;
  transB: boolean;
  bias?: string;
}

/**
 * The stage [from, to) as one dense layer, or why it is not one: a Gemm (transA 0) whose B is a
 * 2-D initializer, or a MatMul by a 2-D initializer and an Add of a bias initializer (how Keras
 * and PyTorch exports often write a dense layer): the imported twins of a built-in dense layer.
 */
export function denseLayer(m: OnnxModel, nodes: number[], what: string): DenseLayer | string {
  const body = nodes.map((i) => m.nodes[i]!).filter((n) => n.op !== 'Constant');
  const twoD = (name: string | undefined) => (name !== undefined && m.initializers.get(name)?.dims.length === 2 ? name : undefined);
  const [n, add] = body;
  if (body.length === 1 && n!.op === 'Gemm') {
    if ((n!.ints.transA?.[0] ?? 0) !== 0) return `the Gemm ${n!.name} transposes its input (transA); pifarm splits only plain dense layers`;
    const weights = twoD(n!.inputs[1]);
    if (!weights) return `the Gemm ${n!.name}'s weights are not a 2-D initializer`;
    return { weights, transB: (n!.ints.transB?.[0] ?? 0) === 1, ...(n!.inputs[2] ? { bias: n!.inputs[2] } : {}) };
  }
  if (body.length === 2 && n!.op === 'MatMul' && add!.op === 'Add' && add!.inputs.includes(n!.outputs[0]!)) {
    const weights = twoD(n!.inputs[1]);
    if (!weights) return `the MatMul ${n!.name}'s weights are not a 2-D initializer`;
    const bias = add!.inputs.find((x) => x !== n!.outputs[0]);
    if (!bias || !m.initializers.has(bias)) return `the Add ${add!.name} after the MatMul does not add a bias initializer`;
    return { weights, transB: false, bias };
  }
  return `the stage ${what} is not one dense layer (a Gemm, or a MatMul and an Add of its bias): only a single dense layer is split into shards`;
}

/** Why the stage [from, to) cannot be split into shards by output units, or null. */
export function shardProblem(modelsDir: string, pkg: ImportedModel, from: number, to: number): string | null {
  const { m, nodes } = stageParts(modelsDir, pkg, from, to);
  const d = denseLayer(m, nodes, `${pkg.cuts[from]!.tensor}..${pkg.cuts[to]!.tensor}`);
  return typeof d === 'string' ? d : null;
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
 * Shard `index` of `count` of a one-dense-layer stage: the same nodes, their weights B and bias cut
 * to the shard's output units (shardRange, as the built-in dense layers are cut), under their own
 * names, so the nodes' bytes are reused as they are. The next stage merges the shards in order.
 */
export function importedShardStage(modelsDir: string, pkg: ImportedModel, from: number, to: number, index: number, count: number): Uint8Array {
  const { m, file, a, b, nodes } = stageParts(modelsDir, pkg, from, to);
  const dense = denseLayer(m, nodes, `${a.tensor}..${b.tensor}`);
  if (typeof dense === 'string') throw new ImportedModelError(`${pkg.name}: ${dense}`);
  const bt = m.initializers.get(dense.weights)!;
  const { transB } = dense;
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
  const ct = dense.bias ? m.initializers.get(dense.bias) : undefined;
  if (ct && ct.dims.reduce((x, d) => x * d, 1) === units) {
    const c = tensorFloats(ct, file).slice(r.start, r.end);
    const dims = ct.dims.length === 2 ? [1, r.count] : [r.count];
    shard.set(ct.name, { ...ct, dims, raw: tensor(ct.name, dims, 1, new Bytes(new Uint8Array(c.buffer))).finish() });
  }
  const outDims = [...pkg.cuts[to]!.dims.slice(0, -1), r.count];
  return stageModel({ ...m, initializers: shard }, nodes, { name: a.tensor, dims: pkg.cuts[from]!.dims }, { name: b.tensor, dims: outDims });
}
