// `pifarm model import model.json`: a Keras model as tensorflowjs_converter writes it from an .h5
// (the layer graph in model.json, the weights in its shard files, possibly quantised to uint8 or
// uint16), converted to ONNX (keras-onnx.ts) and imported as an ONNX model is.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ImportedModel } from '../model/imported.js';
import { OnnxReadError } from '../model/onnx-read.js';
import { importGraph, type ImportOptions } from './import-onnx.js';
import { KerasConvertError, KerasToOnnx, type KerasLayer } from './keras-onnx.js';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number };
}

interface ModelJson {
  format?: string;
  modelTopology: { model_config?: { class_name: string; config: KerasConfig }; config?: KerasConfig; class_name?: string };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

interface KerasConfig {
  layers: KerasLayer[];
  output_layers?: unknown[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** Every weight as float32, by name, from the shards in manifest order (dequantised: q * scale + min). */
export function readWeights(json: ModelJson, dir: string, file: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const group of json.weightsManifest) {
    const data = Buffer.concat(group.paths.map((p) => {
      const f = join(dir, p);
      if (!existsSync(f)) throw new OnnxReadError(`${file}: weight file ${p} is missing (expected next to model.json)`);
      return readFileSync(f);
    }));
    let at = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, d) => a * d, 1);
      const q = w.quantization;
      const size = count * BYTES[q?.dtype ?? w.dtype]!;
      if (!BYTES[q?.dtype ?? w.dtype]) throw new OnnxReadError(`${file}: weight ${w.name} has dtype ${q?.dtype ?? w.dtype}, which pifarm does not read`);
      if (at + size > data.length) throw new OnnxReadError(`${file}: the weight files end inside ${w.name} (${data.length} bytes, ${at + size} needed)`);
      const v = new Float32Array(count);
      if (!q) v.set(new Float32Array(data.buffer.slice(data.byteOffset + at, data.byteOffset + at + size)));
      else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
        const scale = q.scale ?? 1;
        const min = q.min ?? 0;
        for (let i = 0; i < count; i++) v[i] = (q.dtype === 'uint8' ? data[at + i]! : data.readUInt16LE(at + 2 * i)) * scale + min;
      } else throw new OnnxReadError(`${file}: weight ${w.name} is float16-quantised, which pifarm does not read yet`);
      out.set(w.name, v);
      at += size;
    }
  }
  return out;
}

function inputShape(layers: KerasLayer[], file: string): [number, number, number] {
  const input = layers.find((l) => l.class_name === 'InputLayer');
  const shape = (input?.config.batch_input_shape ?? input?.config.batch_shape) as (number | null)[] | undefined;
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => typeof d !== 'number')) throw new OnnxReadError(`${file}: the model's input is ${JSON.stringify(shape)}; pifarm needs an image input [null, H, W, C] with fixed H, W and C`);
  return [shape[1]!, shape[2]!, shape[3]!];
}

export async function importTfjs(file: string, o: ImportOptions): Promise<ImportedModel> {
  if (!existsSync(file)) throw new OnnxReadError(`${file}: no such file`);
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new OnnxReadError(`${file}: not a TF.js model.json (${(e as Error).message})`);
  }
  const config = json.modelTopology?.model_config?.config ?? json.modelTopology?.config;
  if (!config?.layers || !Array.isArray(json.weightsManifest)) throw new OnnxReadError(`${file}: not a TF.js layers model (no modelTopology layers or weightsManifest); a graph model (tfjs_graph_model) is not a Keras model: convert the original to ONNX instead`);
  const weights = readWeights(json, dirname(resolve(file)), file);
  const outputLayer = String((config.output_layers?.[0] as unknown[] | undefined)?.[0] ?? config.layers[config.layers.length - 1]!.config.name);
  const converter = new KerasToOnnx((name, shape) => {
    const w = weights.get(name);
    const count = shape.reduce((a, d) => a * d, 1);
    if (!w) throw new KerasConvertError(`${file}: weight ${name} is not in the weights manifest`);
    if (w.length !== count) throw new KerasConvertError(`${file}: weight ${name} has ${w.length} values, its layer needs ${count} (${shape.join('x')})`);
    return w;
  });
  const bytes = converter.convert(config.layers, inputShape(config.layers, file), outputLayer);
  return importGraph(bytes, file, 'tfjs-layers', { ...o, name: o.name ?? basename(dirname(resolve(file))) });
}
