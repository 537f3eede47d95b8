// ONNX external data: exporters write models over 2 GB, and often smaller ones too, with each
// large initializer's bytes in a file beside the graph (TensorProto.external_data: location,
// offset, length). pifarm's package holds one self-contained graph (stages are cut from its bytes,
// hosts get single files), so an import reads those bytes in and writes the tensors inline.
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { OnnxReadError, type OnnxModel } from '../model/onnx-read.js';
import { Bytes, tensor } from './onnx-proto.js';

/** bytes per element of the TensorProto data types an initializer may have */
const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** Reads every external initializer's data into the model (in place); returns how many, and from which files. */
export function inlineExternalData(m: OnnxModel, modelFile: string): { tensors: number; files: string[] } {
  const folder = dirname(resolve(modelFile));
  const files = new Map<string, Buffer>();
  let tensors = 0;
  for (const [name, t] of m.initializers) {
    if (!t.external) continue;
    const e = t.externalData;
    if (!e?.location) throw new OnnxReadError(`${modelFile}: initializer ${name} keeps its data outside the file but names no location`);
    const path = resolve(folder, e.location);
    const inside = relative(folder, path);
    // as onnxruntime: the data files lie in the model's folder or below it
    if (inside.startsWith('..') || isAbsolute(inside)) throw new OnnxReadError(`${modelFile}: initializer ${name}: external data "${e.location}" lies outside the model's folder ${folder}`);
    let data = files.get(path);
    if (!data) {
      try {
        if (!statSync(path).isFile()) throw new Error('not a file');
        data = readFileSync(path);
      } catch {
        throw new OnnxReadError(`${modelFile}: initializer ${name}: its data file ${e.location} is not in ${folder}; copy the .onnx file with the data files it names`);
      }
      files.set(path, data);
    }
    const want = t.dims.reduce((a, d) => a * d, 1) * (ELEMENT_BYTES[t.dataType] ?? 0);
    const length = e.length ?? want;
    if (!want || e.offset + length > data.length || length !== want) {
      throw new OnnxReadError(`${modelFile}: initializer ${name}: ${e.location} holds ${data.length} bytes; the tensor (${t.dims.join('x')}, type ${t.dataType}) wants ${want} at offset ${e.offset}: the data file does not belong to this model or is incomplete`);
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset + e.offset, length);
    const raw = tensor(name, t.dims, t.dataType, new Bytes(bytes)).finish();
    m.initializers.set(name, { ...t, external: false, dataBytes: length, raw, externalData: undefined });
    tensors++;
  }
  return { tensors, files: [...files.keys()].map((f) => relative(folder, f)) };
}
