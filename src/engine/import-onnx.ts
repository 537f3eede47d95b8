// `pifarm model import FILE.onnx`: a trained model as a pifarm model package. The graph is read
// (onnx-read.ts), post-processing that is not a tensor (ONNX-ML ZipMap) is cut off, onnxruntime
// checks that it can run every operator, one run on a blank input tells the shape of every cut
// tensor and of every float tensor (for MACs and each cut range's work, segment-work.ts), and
// the package is written under the models folder: the original file (named by its hash) and
// meta.json. Written into a temporary folder and renamed when complete, so a failed import leaves
// nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCuts, describeNode, stageNodes } from '../model/onnx-cuts.js';
import { OnnxReadError, readOnnx, type OnnxModel } from '../model/onnx-read.js';
import { inlineExternalData } from './onnx-external.js';
import { probeModel, stageModel } from './onnx-stage.js';
import { floatTensors, segmentWork } from './segment-work.js';
import type { ImportedModel, Preprocess } from '../model/imported.js';
import { META_FILE } from '../model/imported.js';

type Ort = typeof import('onnxruntime-node');

export interface ImportOptions {
  name?: string;
  /** one class name per line */
  labelsFile?: string;
  preprocess?: Partial<Preprocess>;
  /** the models folder (default <state dir>/models) */
  modelsDir: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
/** shipped with the project (roles/): ImageNet's 1000 class names */
const IMAGENET_LABELS = fileURLToPath(new URL('../../../roles/imagenet-labels.txt', import.meta.url));

/** Drops trailing ONNX-ML ZipMap nodes (a map of labels, not a tensor): their input becomes the output. */
function cutPostProcessing(m: OnnxModel, notes: string[]): void {
  for (;;) {
    const last = m.nodes[m.nodes.length - 1];
    if (!last || last.op !== 'ZipMap' || !m.outputs.some((o) => last.outputs.includes(o.name))) return;
    m.nodes.pop();
    m.outputs = m.outputs.filter((o) => !last.outputs.includes(o.name));
    if (!m.outputs.some((o) => o.name === last.inputs[0])) m.outputs.push({ name: last.inputs[0]!, elemType: 1, dims: [], raw: new Uint8Array(0) });
    notes.push(`cut off ${describeNode(last, m.nodes.length)}: a label map, not a tensor; the output is its input ${last.inputs[0]}`);
  }
}

/** The input as an image: NCHW [n, 3, h, w] or NHWC [n, h, w, 3]. */
function imageInput(dims: number[], file: string, name: string): { layout: 'NCHW' | 'NHWC'; shape: [number, number, number] } {
  const d = dims.map((x, i) => (i === 0 && x < 0 ? 1 : x));
  if (d.length === 4 && d[1] === 3 && d[2]! > 0 && d[3]! > 0) return { layout: 'NCHW', shape: [d[2]!, d[3]!, 3] };
  if (d.length === 4 && d[3] === 3 && d[1]! > 0 && d[2]! > 0) return { layout: 'NHWC', shape: [d[1]!, d[2]!, 3] };
  throw new OnnxReadError(`${file}: input ${name} has shape [${dims.join(', ')}]; pifarm needs an image input, [1, 3, H, W] or [1, H, W, 3] with fixed H and W`);
}

async function session(ort: Ort, bytes: Uint8Array, m: OnnxModel, file: string) {
  try {
    return await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });
  } catch (e) {
    const msg = (e as Error).message;
    // onnxruntime names the node as ("name", Op, ...) and the op as "No Op registered for Op" or
    // "Could not find an implementation for Op(version)"
    const named = /\("([^"]*)", (\w+),/.exec(msg);
    const op = /No Op registered for (\w+)|implementation for (\w+)\(/.exec(msg);
    const wantOp = named?.[2] ?? op?.[1] ?? op?.[2];
    const node = m.nodes.findIndex((n) => (named && n.name === named[1] && n.op === named[2]) || (!named && wantOp !== undefined && n.op === wantOp));
    const which = node >= 0 ? `node ${describeNode(m.nodes[node]!, node)}: ` : '';
    throw new OnnxReadError(`${file}: ${which}onnxruntime cannot run this model: ${msg.split('\n')[0]}`);
  }
}

/** MACs of one Conv, Gemm or MatMul node from its weight's and its output's shape; 0 for the rest. */
function nodeMacs(m: OnnxModel, i: number, outDims: number[] | undefined): number {
  const n = m.nodes[i]!;
  const w = m.initializers.get(n.inputs[1] ?? '');
  if (!outDims || !w) return 0;
  const outElems = outDims.reduce((a, x) => a * x, 1);
  if (n.op === 'Conv' && w.dims.length === 4) return outElems * w.dims[1]! * w.dims[2]! * w.dims[3]!;
  if (n.op === 'Gemm' && w.dims.length === 2) return outElems * ((n.ints.transB?.[0] ?? 0) === 1 ? w.dims[1]! : w.dims[0]!);
  if (n.op === 'MatMul' && w.dims.length === 2) return outElems * w.dims[0]!;
  return 0;
}

export async function importOnnx(file: string, o: ImportOptions): Promise<ImportedModel> {
  if (!existsSync(file)) throw new OnnxReadError(`${file}: no such file`);
  return importGraph(readFileSync(file), file, 'onnx', o);
}

/** An ONNX graph's bytes (read from `file`, or converted from it) as a model package. */
export async function importGraph(bytes: Uint8Array, file: string, format: ImportedModel['format'], o: ImportOptions): Promise<ImportedModel> {
  const m = readOnnx(bytes, file);
  const notes: string[] = [];
  cutPostProcessing(m, notes);
  // the graph is written again (not kept as it was read) when part of it was cut off or its data lived outside it
  let rewrite = notes.length > 0;
  if ([...m.initializers.values()].some((t) => t.external)) {
    const inlined = inlineExternalData(m, file);
    notes.push(`external data: ${inlined.tensors} initializer(s) read from ${inlined.files.join(', ')} into the package's graph`);
    rewrite = true;
  }
  const name = o.name ?? basename(file).replace(/\.(onnx|json)$/i, '');
  if (!NAME.test(name)) throw new OnnxReadError(`--name: "${name}" is not a model name (letters, digits, . _ -, up to 64)`);
  const cuts = findCuts(m, file);
  const input = m.inputs.find((v) => v.name === cuts.input)!;
  const image = imageInput(input.dims, file, input.name);
  const ort = (await import('onnxruntime-node')) as Ort;

  const weighed = m.nodes.map((_, i) => i).filter((i) => ['Conv', 'Gemm', 'MatMul'].includes(m.nodes[i]!.op));
  const extra = [...new Set([...cuts.cuts.slice(1, -1).map((c) => c.tensor), ...floatTensors(m, input.name, cuts.constantNodes)])];
  const probe = await session(ort, probeModel(m, extra), m, file);
  const inDims = input.dims.map((x, i) => (i === 0 && x < 0 ? 1 : x));
  const feed = { [input.name]: new ort.Tensor('float32', new Float32Array(inDims.reduce((a, x) => a * x, 1)), inDims) };
  let outs: Record<string, { dims: readonly number[]; type: string }>;
  try {
    outs = (await probe.run(feed)) as never;
  } finally {
    await probe.release();
  }
  const dimsOf = (t: string) => (outs[t] ? [...outs[t]!.dims] : undefined);
  const classes = dimsOf(cuts.output)?.reduce((a, x) => a * x, 1) ?? 0;
  // ImageNet's classes where the output has 1000 (or 1001, a background class first) and no labels were given
  const imagenet = !o.labelsFile && (classes === 1000 || classes === 1001);
  const labels = o.labelsFile ? readLabels(o.labelsFile, classes) : imagenet ? [...(classes === 1001 ? ['background'] : []), ...readLabels(IMAGENET_LABELS, 1000)] : undefined;
  if (imagenet) notes.push(`labels: ImageNet's ${classes} classes (the output has ${classes}; give --labels FILE for others)`);
  const macs = m.nodes.map((_, i) => (weighed.includes(i) ? nodeMacs(m, i, dimsOf(m.nodes[i]!.outputs[0]!)) : 0));
  // the graph as pifarm runs it: the file itself, or without the post-processing cut off
  const graph = rewrite ? stageModel(m, m.nodes.map((_, i) => i), { name: input.name }, { name: cuts.output }) : bytes;
  const sha = createHash('sha256').update(graph).digest('hex');
  const pkg: ImportedModel = {
    name,
    format,
    source: basename(file),
    sha256: sha,
    graphFile: `${sha.slice(0, 16)}.onnx`,
    input: { name: input.name, dims: inDims, layout: image.layout, shape: image.shape },
    output: { name: cuts.output, dims: dimsOf(cuts.output) ?? [] },
    classes,
    preprocess: { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], bgr: false, ...o.preprocess },
    ops: countOps(m),
    params: [...m.initializers.values()].reduce((a, t) => a + t.dims.reduce((x, d) => x * d, 1), 0),
    macs: macs.reduce((a, x) => a + x, 0),
    cuts: cuts.cuts.map((c, k) => {
      const dims = k === 0 ? inDims : dimsOf(c.tensor) ?? [];
      const next = cuts.cuts[k + 1];
      const inside = next ? stageNodes(m, cuts, c, next) : [];
      return {
        tensor: c.tensor,
        after: c.after,
        dims,
        bytes: dims.reduce((a, x) => a * x, 1) * 4,
        macsToNext: inside.reduce((a, i) => a + macs[i]!, 0),
        opsToNext: inside.map((i) => m.nodes[i]!.op),
        ...(next ? { workToNext: segmentWork(m, inside, cuts.constantNodes, (t) => (t === input.name ? inDims : dimsOf(t))) } : {}),
      };
    }),
    notes,
    ...(labels ? { labels } : {}),
  };
  writePackage(o.modelsDir, pkg, graph);
  return pkg;
}

function countOps(m: OnnxModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of m.nodes) out[n.op] = (out[n.op] ?? 0) + 1;
  return out;
}

function readLabels(file: string, classes: number): string[] {
  if (!existsSync(file)) throw new OnnxReadError(`--labels: ${file}: no such file`);
  const labels = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (labels.length !== classes) throw new OnnxReadError(`--labels: ${file} has ${labels.length} labels, but the model's output has ${classes} classes`);
  return labels;
}

/** models/<name>/ with the graph and meta.json, complete or not at all. */
function writePackage(modelsDir: string, pkg: ImportedModel, bytes: Uint8Array): void {
  mkdirSync(modelsDir, { recursive: true });
  const final = join(modelsDir, pkg.name);
  const tmp = join(modelsDir, `.${pkg.name}.importing-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    writeFileSync(join(tmp, pkg.graphFile), bytes);
    writeFileSync(join(tmp, META_FILE), JSON.stringify(pkg, null, 2) + '\n');
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
