// A stage of an imported model as an ONNX model of its own: the nodes between two cut points and
// only the initializers they read, written from the bytes they were read from (no weight is
// decoded or copied into JavaScript values), with the cut tensors as its input and output.
import type { OnnxModel } from '../model/onnx-read.js';
import { Bytes, Message } from './onnx-proto.js';

const FLOAT = 1;

/** ValueInfoProto: a tensor of `elemType`; with `dims`, its shape (-1: a dim left open). */
function valueInfo(name: string, elemType: number, dims?: number[]): Message {
  const tensorType = new Message().varint(1, elemType);
  if (dims) {
    const shape = new Message();
    for (const d of dims) shape.message(1, d >= 0 ? new Message().varint(1, d) : new Message().string(2, 'n'));
    tensorType.message(2, shape);
  }
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

function modelBytes(m: OnnxModel, graph: Message): Uint8Array {
  const out = new Message().varint(1, m.irVersion || 8).string(2, 'pifarm').message(7, graph);
  for (const o of m.opsets) out.bytes(8, new Bytes(o));
  return out.finish();
}

export interface StageEnd {
  name: string;
  /** the tensor's shape (batch first); absent: left to the runtime */
  dims?: number[];
}

/** The ONNX model of the nodes `nodes` (indexes into m.nodes, in order) from `input` to `output`. */
export function stageModel(m: OnnxModel, nodes: number[], input: StageEnd, output: StageEnd): Uint8Array {
  const g = new Message();
  const reads = new Set<string>();
  for (const i of nodes) {
    const n = m.nodes[i]!;
    g.bytes(1, new Bytes(n.raw));
    n.inputs.forEach((x) => reads.add(x));
  }
  g.string(2, `${m.graphName || 'model'}:${input.name}->${output.name}`);
  for (const [name, t] of m.initializers) if (reads.has(name)) g.bytes(5, new Bytes(t.raw));
  const original = m.inputs.find((v) => v.name === input.name);
  // the first stage reads the graph's own input, as the model declares it
  if (original) g.bytes(11, new Bytes(original.raw));
  else g.message(11, valueInfo(input.name, FLOAT, input.dims));
  g.message(12, valueInfo(output.name, FLOAT, output.dims));
  return modelBytes(m, g);
}

/**
 * The whole model with more outputs: `extra` tensors (float, shape left open) become graph
 * outputs too, so one run tells their shapes.
 */
export function probeModel(m: OnnxModel, extra: string[]): Uint8Array {
  const g = new Message();
  for (const n of m.nodes) g.bytes(1, new Bytes(n.raw));
  g.string(2, m.graphName || 'model');
  for (const t of m.initializers.values()) g.bytes(5, new Bytes(t.raw));
  for (const v of m.inputs) g.bytes(11, new Bytes(v.raw));
  for (const v of m.outputs) g.bytes(12, new Bytes(v.raw));
  const have = new Set(m.outputs.map((v) => v.name));
  for (const x of extra) if (!have.has(x)) g.message(12, valueInfo(x, FLOAT));
  return modelBytes(m, g);
}
