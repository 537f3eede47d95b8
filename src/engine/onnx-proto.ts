// A minimal protobuf writer for the part of onnx.proto that a block graph needs. Hand-written
// rather than a generated codec so a model of hundreds of MB is written in one pass into one
// buffer, with weights generated straight into place (no second copy of VGG16's 400 MB fc1).

/** A message field value: bytes written later into the final buffer. */
export interface Chunk {
  readonly byteLength: number;
  write(target: Uint8Array, offset: number): void;
}

/** Bytes already encoded (a node or tensor message read from a model), written as they are. */
export class Bytes implements Chunk {
  constructor(readonly data: Uint8Array) {}
  get byteLength() {
    return this.data.byteLength;
  }
  write(target: Uint8Array, offset: number) {
    target.set(this.data, offset);
  }
}

/** Raw float32 data produced in pieces by `fill`, so the caller never holds it whole. */
export class LazyFloats implements Chunk {
  constructor(
    readonly count: number,
    readonly fill: (emit: (piece: Float32Array) => void) => void,
  ) {}
  get byteLength() {
    return this.count * 4;
  }
  write(target: Uint8Array, offset: number) {
    let at = offset;
    this.fill((piece) => {
      target.set(new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength), at);
      at += piece.byteLength;
    });
    if (at !== offset + this.byteLength) throw new Error(`tensor fill wrote ${at - offset} bytes, expected ${this.byteLength}`);
  }
}

function varintBytes(value: number): Uint8Array {
  // int64 fields: our values are non-negative, or -1 (reshape), written as 10-byte two's complement.
  if (value < 0) {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return Uint8Array.from(out);
  }
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** A message under construction: a list of chunks, serialised once at the end. */
export class Message implements Chunk {
  private parts: Chunk[] = [];
  private size = 0;

  private push(c: Chunk) {
    this.parts.push(c);
    this.size += c.byteLength;
  }
  private tag(field: number, wire: number) {
    this.push(new Bytes(varintBytes(field * 8 + wire)));
  }
  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.push(new Bytes(varintBytes(value)));
    return this;
  }
  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(new Bytes(b));
    return this;
  }
  bytes(field: number, chunk: Chunk): this {
    this.tag(field, 2);
    this.push(new Bytes(varintBytes(chunk.byteLength)));
    this.push(chunk);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new Bytes(new TextEncoder().encode(s)));
  }
  message(field: number, m: Message): this {
    return this.bytes(field, m);
  }
  get byteLength() {
    return this.size;
  }
  write(target: Uint8Array, offset: number) {
    let at = offset;
    for (const p of this.parts) {
      p.write(target, at);
      at += p.byteLength;
    }
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.write(out, 0);
    return out;
  }
}

// ---- onnx.proto field numbers (onnx/onnx.proto3, IR version 8) ----
export const TensorType = { FLOAT: 1, INT64: 7 } as const;
const AttrType = { FLOAT: 1, INT: 2, INTS: 7 } as const;

export type Attr = { name: string; i: number } | { name: string; ints: number[] } | { name: string; f: number };

export function node(op: string, inputs: string[], outputs: string[], attrs: Attr[] = [], name = outputs[0]!): Message {
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, name);
  m.string(4, op);
  for (const a of attrs) {
    const am = new Message().string(1, a.name);
    if ('i' in a) am.varint(20, AttrType.INT).varint(3, a.i);
    else if ('ints' in a) {
      am.varint(20, AttrType.INTS);
      for (const v of a.ints) am.varint(8, v);
    } else am.varint(20, AttrType.FLOAT).float(2, a.f);
    m.message(5, am);
  }
  return m;
}

export function tensor(name: string, dims: number[], type: number, raw: Chunk): Message {
  const m = new Message();
  for (const d of dims) m.varint(1, d);
  m.varint(2, type);
  m.string(8, name);
  m.bytes(9, raw);
  return m;
}

export function int64Tensor(name: string, values: number[]): Message {
  const b = new Uint8Array(values.length * 8);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return tensor(name, [values.length], TensorType.INT64, new Bytes(b));
}

export function valueInfo(name: string, dims: number[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, new Message().varint(1, d));
  const tensorType = new Message().varint(1, TensorType.FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

export function model(graph: { nodes: Message[]; initializers: Message[]; inputs: Message[]; outputs: Message[]; name: string }, opset = 13): Uint8Array {
  const g = new Message();
  for (const n of graph.nodes) g.message(1, n);
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, t);
  for (const i of graph.inputs) g.message(11, i);
  for (const o of graph.outputs) g.message(12, o);
  const m = new Message()
    .varint(1, 8) // ir_version
    .string(2, 'pifarm')
    .message(7, g)
    .message(8, new Message().string(1, '').varint(2, opset));
  return m.finish();
}
