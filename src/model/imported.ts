// A model package made by `pifarm model import`: the original graph (named by its hash) and
// meta.json, which says how to feed it (input shape, layout, preprocessing), what comes out
// (classes, labels), what it costs (MACs, parameters) and where it can be cut.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const META_FILE = 'meta.json';

export interface Preprocess {
  /** pixel value (0..255) times scale, then (x - mean) / std per channel */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** channels in BGR order (Caffe models) */
  bgr: boolean;
}

export interface ImportedCut {
  tensor: string;
  /** index of the node that makes it (-1: the input) */
  after: number;
  dims: number[];
  /** float32 bytes of the tensor for one frame: what a stage boundary here sends */
  bytes: number;
  /** MACs of the nodes from here to the next cut */
  macsToNext: number;
  /** the operators from here to the next cut, in graph order (what a preset's blocks are matched on) */
  opsToNext?: string[];
  /** what the nodes from here to the next cut hold and move: the cost model's inputs (packages imported before it lack it) */
  workToNext?: SegmentWork;
}

/** The cost model's view of the nodes between two neighbouring cut points (engine/segment-work.ts). */
export interface SegmentWork {
  /** bytes of every weight (initializer) the nodes read */
  weightBytes: number;
  /** input + output bytes of every convolution, pooling and LRN node, summed: the activation traffic */
  activationBytes: number;
  /** the largest input + output pair of one node */
  largestPairBytes: number;
  /** output units, when the nodes are one dense layer that splits into shards */
  denseUnits?: number;
}

export interface ImportedModel {
  name: string;
  /** what it was imported from: an ONNX file, or a Keras model in TF.js layers format (converted to ONNX) */
  format: 'onnx' | 'tfjs-layers';
  /** the file it was imported from (its name) */
  source: string;
  sha256: string;
  /** the graph, in the package folder */
  graphFile: string;
  input: { name: string; dims: number[]; layout: 'NCHW' | 'NHWC'; shape: [number, number, number] };
  output: { name: string; dims: number[] };
  classes: number;
  preprocess: Preprocess;
  ops: Record<string, number>;
  params: number;
  macs: number;
  /** the input, every cut point, the output */
  cuts: ImportedCut[];
  /** what the import changed or noticed (post-processing cut off...) */
  notes: string[];
  labels?: string[];
}

export class ImportedModelError extends Error {
  readonly userFacing = true;
}

/** Where imported models live unless the inventory or a flag says: <state dir>/models. */
export function defaultModelsDir(): string {
  return resolve(process.env.PIFARM_STATE_DIR ?? '.pifarm', 'models');
}

export function isImportedModel(modelsDir: string, name: string): boolean {
  return existsSync(join(modelsDir, name, META_FILE));
}

export function loadImportedModel(modelsDir: string, name: string): ImportedModel {
  const file = join(modelsDir, name, META_FILE);
  if (!existsSync(file)) throw new ImportedModelError(`no imported model "${name}" in ${modelsDir}; import one with pifarm model import FILE.onnx --name ${name}`);
  return JSON.parse(readFileSync(file, 'utf8')) as ImportedModel;
}

/** The graph file of a package. */
export function graphPath(modelsDir: string, m: ImportedModel): string {
  return join(modelsDir, m.name, m.graphFile);
}

/** The work of cut range k -> k+1; a package imported before pifarm recorded it is imported again. */
export function cutRangeWork(m: ImportedModel, k: number): SegmentWork {
  const w = m.cuts[k]?.workToNext;
  if (!w) throw new ImportedModelError(`${m.name}: the package does not say what each cut range holds and moves (it was imported by an older pifarm); import it again with pifarm model import`);
  return w;
}

/** Cut indexes (0 first, the output last) splitting the model into `n` stages of about equal MACs. */
export function balancedCuts(m: ImportedModel, n: number): number[] {
  const last = m.cuts.length - 1;
  const at = [0];
  let acc = 0;
  for (let i = 0; i < last && at.length < n; i++) {
    acc += m.cuts[i]!.macsToNext;
    if (acc >= (at.length * m.macs) / n && i + 1 < last) at.push(i + 1);
  }
  return [...at, last];
}

export interface TopClass {
  index: number;
  label?: string;
  p: number;
}

/** The k highest outputs of a frame, with their labels where given. */
export function topK(out: Float32Array, k = 5, labels?: string[]): TopClass[] {
  const idx = Array.from(out.keys()).sort((a, b) => out[b]! - out[a]!).slice(0, k);
  return idx.map((index) => ({ index, p: out[index]!, ...(labels ? { label: labels[index]! } : {}) }));
}

/** The k highest outputs of a frame, with the package's labels where it has them. */
export function topClasses(m: ImportedModel, out: Float32Array, k = 5): TopClass[] {
  return topK(out, k, m.labels);
}
