// A model package made by `pifarm model import`: the original graph (named by its hash) and
// meta.json, which says how to feed it (input shape, layout, preprocessing), what comes out
// (classes, labels), what it costs (MACs, parameters) and where it can be cut.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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

export function loadImportedModel(modelsDir: string, name: string): ImportedModel {
  const file = join(modelsDir, name, META_FILE);
  if (!existsSync(file)) throw new ImportedModelError(`no imported model "${name}" in ${modelsDir}; import one with pifarm model import FILE.onnx --name ${name}`);
  return JSON.parse(readFileSync(file, 'utf8')) as ImportedModel;
}

/** The graph file of a package. */
export function graphPath(modelsDir: string, m: ImportedModel): string {
  return join(modelsDir, m.name, m.graphFile);
}
