// Reads the parts of an ONNX model (onnx.proto) that cutting it into stages needs: the graph's
// nodes in order, its initializers, inputs and outputs, and the opsets. Every node and initializer
// keeps the bytes it was read from (a view, not a copy), so a stage's graph is written from the
// original bytes (onnx-stage.ts) without decoding or copying a weight. Hand-written, as the writer
// (engine/onnx-proto.ts) is, for that reason.

export class OnnxReadError extends Error {
  readonly userFacing = true;
}

export interface OnnxNode {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** the attributes pifarm reads (group, kernel_shape, strides, transB...), ints only */
  ints: Record<string, number[]>;
  /** the encoded NodeProto */
  raw: Uint8Array;
}

export interface OnnxTensorInfo {
  name: string;
  /** onnx TensorProto.DataType: 1 float, 7 int64 ... */
  dataType: number;
  dims: number[];
  /** bytes of its data (raw_data or the typed fields); 0 for data kept outside the file */
  dataBytes: number;
  /** the data lives in another file (external data) */
  external: boolean;
  /** where, for external data: the file (relative to the model's folder), and the bytes in it */
  externalData?: { location: string; offset: number; length?: number };
  raw: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** dims; a symbolic or missing dim is -1 */
  dims: number[];
  raw: Uint8Array;
}

export interface OnnxModel {
  irVersion: number;
  /** encoded OperatorSetIdProto messages */
  opsets: Uint8Array[];
  /** (domain, version) of each opset */
  opsetVersions: { domain: string; version: number }[];
  graphName: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensorInfo>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** A protobuf reader over one message's bytes. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new OnnxReadError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result >= 2 ** 63 ? result - 2 ** 64 : result;
      shift *= 128;
    }
    throw new OnnxReadError('varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.buf.length) throw new OnnxReadError(`a field of ${n} bytes runs past the end of its message`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** [field, wire type], or undefined at the end */
  tag(): [number, number] | undefined {
    if (this.done) return undefined;
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new OnnxReadError(`unsupported protobuf wire type ${wire}`);
    if (this.pos > this.buf.length) throw new OnnxReadError('a field runs past the end of its message');
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Each field of a message: calls `on(field, wire, reader)`, which reads it or returns false to skip it. */
function fields(buf: Uint8Array, on: (field: number, wire: number, r: Reader) => boolean): void {
  const r = new Reader(buf);
  for (let t = r.tag(); t; t = r.tag()) if (!on(t[0], t[1], r)) r.skip(t[1]);
}

/** int64 values of a packed or repeated field */
function readInts(wire: number, r: Reader, into: number[]): void {
  if (wire === 2) {
    const p = new Reader(r.bytes());
    while (!p.done) into.push(p.varint());
  } else into.push(r.varint());
}

function readNode(raw: Uint8Array): OnnxNode {
  const n: OnnxNode = { name: '', op: '', domain: '', inputs: [], outputs: [], ints: {}, raw };
  fields(raw, (f, w, r) => {
    if (f === 1 && w === 2) n.inputs.push(text(r.bytes()));
    else if (f === 2 && w === 2) n.outputs.push(text(r.bytes()));
    else if (f === 3 && w === 2) n.name = text(r.bytes());
    else if (f === 4 && w === 2) n.op = text(r.bytes());
    else if (f === 7 && w === 2) n.domain = text(r.bytes());
    else if (f === 5 && w === 2) {
      let name = '';
      const ints: number[] = [];
      fields(r.bytes(), (af, aw, ar) => {
        if (af === 1 && aw === 2) name = text(ar.bytes());
        else if (af === 3 && aw === 0) ints.push(ar.varint());
        else if (af === 8) readInts(aw, ar, ints);
        else return false;
        return true;
      });
      if (ints.length) n.ints[name] = ints;
    } else return false;
    return true;
  });
  return n;
}

function readTensor(raw: Uint8Array): OnnxTensorInfo {
  const t: OnnxTensorInfo = { name: '', dataType: 0, dims: [], dataBytes: 0, external: false, raw };
  let typed = 0;
  fields(raw, (f, w, r) => {
    if (f === 1) readInts(w, r, t.dims);
    else if (f === 2 && w === 0) t.dataType = r.varint();
    else if (f === 8 && w === 2) t.name = text(r.bytes());
    else if (f === 9 && w === 2) t.dataBytes = r.bytes().length;
    else if (f === 14 && w === 0) t.external = r.varint() === 1;
    else if (f === 13 && w === 2) readExternalEntry(r.bytes(), t);
    else if ([4, 5, 6, 7, 10, 11].includes(f) && w === 2) typed += r.bytes().length;
    else return false;
    return true;
  });
  if (!t.dataBytes) t.dataBytes = typed;
  return t;
}

/** One StringStringEntryProto of TensorProto.external_data: location, offset or length. */
function readExternalEntry(raw: Uint8Array, t: OnnxTensorInfo): void {
  let key = '';
  let value = '';
  fields(raw, (f, w, r) => {
    if (f === 1 && w === 2) key = text(r.bytes());
    else if (f === 2 && w === 2) value = text(r.bytes());
    else return false;
    return true;
  });
  const e = (t.externalData ??= { location: '', offset: 0 });
  if (key === 'location') e.location = value;
  else if (key === 'offset') e.offset = Number(value);
  else if (key === 'length') e.length = Number(value);
}

function readValueInfo(raw: Uint8Array): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, dims: [], raw };
  fields(raw, (f, w, r) => {
    if (f === 1 && w === 2) v.name = text(r.bytes());
    else if (f === 2 && w === 2) {
      fields(r.bytes(), (tf, tw, tr) => {
        if (tf !== 1 || tw !== 2) return false; // tensor_type
        fields(tr.bytes(), (ttf, ttw, ttr) => {
          if (ttf === 1 && ttw === 0) v.elemType = ttr.varint();
          else if (ttf === 2 && ttw === 2) {
            fields(ttr.bytes(), (sf, sw, sr) => {
              if (sf !== 1 || sw !== 2) return false;
              let dim = -1;
              fields(sr.bytes(), (df, dw, dr) => {
                if (df === 1 && dw === 0) dim = dr.varint();
                else return false;
                return true;
              });
              v.dims.push(dim);
              return true;
            });
          } else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return v;
}

/** Parses an ONNX model; `file` names it in errors. */
export function readOnnx(bytes: Uint8Array, file: string): OnnxModel {
  const m: OnnxModel = { irVersion: 0, opsets: [], opsetVersions: [], graphName: '', nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  let graph: Uint8Array | undefined;
  try {
    fields(bytes, (f, w, r) => {
      if (f === 1 && w === 0) m.irVersion = r.varint();
      else if (f === 7 && w === 2) graph = r.bytes();
      else if (f === 8 && w === 2) {
        const raw = r.bytes();
        const o = { domain: '', version: 0 };
        fields(raw, (of, ow, or) => {
          if (of === 1 && ow === 2) o.domain = text(or.bytes());
          else if (of === 2 && ow === 0) o.version = or.varint();
          else return false;
          return true;
        });
        m.opsets.push(raw);
        m.opsetVersions.push(o);
      } else return false;
      return true;
    });
    if (!graph) throw new OnnxReadError('no graph in the model');
    fields(graph, (f, w, r) => {
      if (w !== 2) return false;
      if (f === 1) m.nodes.push(readNode(r.bytes()));
      else if (f === 2) m.graphName = text(r.bytes());
      else if (f === 5) {
        const t = readTensor(r.bytes());
        m.initializers.set(t.name, t);
      } else if (f === 11) m.inputs.push(readValueInfo(r.bytes()));
      else if (f === 12) m.outputs.push(readValueInfo(r.bytes()));
      else return false;
      return true;
    });
  } catch (e) {
    if (e instanceof OnnxReadError) throw new OnnxReadError(`${file}: not a readable ONNX model (${e.message}); is the file complete?`);
    throw e;
  }
  if (m.nodes.length === 0) throw new OnnxReadError(`${file}: the ONNX graph has no nodes`);
  return m;
}

/** A float32 initializer's values (raw_data or float_data), copied out of the model's bytes. */
export function tensorFloats(t: OnnxTensorInfo, file: string): Float32Array {
  if (t.dataType !== 1) throw new OnnxReadError(`${file}: initializer ${t.name} is not float32`);
  let out: Float32Array | undefined;
  fields(t.raw, (f, w, r) => {
    // copied into a buffer of their own (a Node Buffer's slice() would be a view of the whole file)
    if ((f === 9 || f === 4) && w === 2) out = new Float32Array(new Uint8Array(r.bytes()).buffer);
    else return false;
    return true;
  });
  if (!out) throw new OnnxReadError(`${file}: initializer ${t.name} has no data in the file`);
  return out;
}
