// A Keras model (TF.js layers format: the layer graph of model.json and its weights) written as
// an ONNX graph with the project's writer, so an imported Keras model is cut, run and checked
// exactly as an imported ONNX one. The graph takes Keras' NHWC input, works in NCHW (ONNX's
// layout for Conv and pooling) and goes back to NHWC before a Flatten, so the flattened order is
// Keras'. "same" padding becomes explicit pads, the extra pixel at the end as TensorFlow puts it.
import { Bytes, model, node, tensor, valueInfo, int64Tensor, type Message, type Attr } from './onnx-proto.js';

const FLOAT = 1;

export class KerasConvertError extends Error {
  readonly userFacing = true;
}

export interface KerasLayer {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes?: unknown[];
}

/** NCHW shape without the batch: [c, h, w], or [n] after Flatten/Dense */
type Shape = number[];

interface Value {
  name: string;
  shape: Shape;
}

const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number') throw new KerasConvertError(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return v;
};
const pair = (v: unknown, what: string): [number, number] => (Array.isArray(v) ? [num(v[0], what), num(v[1], what)] : [num(v, what), num(v, what)]);

/** TensorFlow's "same": total = max((ceil(in/s) - 1) * s + (k - 1) * d + 1 - in, 0), the odd pixel at the end */
function samePads(input: number, k: number, s: number, d: number): [number, number, number] {
  const out = Math.ceil(input / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - input, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2), out];
}

/** The names of a layer's inputs (the first tensor of each inbound layer). */
function inboundOf(l: KerasLayer): string[] {
  const nodes = l.inbound_nodes as unknown[][] | undefined;
  if (!nodes || nodes.length === 0) return [];
  const first = nodes[0] as unknown;
  // Keras 2: [[["prev", 0, 0, {}], ...]]; Keras 3 (TF.js 4): [{args: [{config: {keras_history: ["prev", 0, 0]}}]}]
  if (Array.isArray(first)) return (first as unknown[][]).map((x) => String(x[0]));
  const args = (first as { args?: { config?: { keras_history?: unknown[] } }[] }).args ?? [];
  return args.flatMap((a) => (Array.isArray(a) ? a : [a])).map((a) => String((a as { config: { keras_history: unknown[] } }).config.keras_history[0]));
}

export class KerasToOnnx {
  private readonly nodes: Message[] = [];
  private readonly inits: Message[] = [];
  private readonly values = new Map<string, Value>();
  private n = 0;

  constructor(private readonly weight: (name: string, shape: number[]) => Float32Array) {}

  private init(name: string, dims: number[], data: Float32Array): string {
    this.inits.push(tensor(name, dims, FLOAT, new Bytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))));
    return name;
  }

  private op(op: string, inputs: string[], out: string, attrs: Attr[] = []): string {
    this.nodes.push(node(op, inputs, [out], attrs, `${out}#${this.n++}`));
    return out;
  }

  private activation(x: string, a: unknown, name: string): string {
    if (a === undefined || a === 'linear') return x;
    if (a === 'relu') return this.op('Relu', [x], `${name}/relu`);
    if (a === 'relu6') return this.op('Clip', [x, this.scalar(`${name}/lo`, 0), this.scalar(`${name}/hi`, 6)], `${name}/relu6`);
    if (a === 'softmax') return this.op('Softmax', [x], `${name}/softmax`, [{ name: 'axis', i: -1 }]);
    if (a === 'sigmoid') return this.op('Sigmoid', [x], `${name}/sigmoid`);
    throw new KerasConvertError(`layer ${name}: activation "${String(a)}" is not one pifarm converts (linear, relu, relu6, softmax, sigmoid)`);
  }

  private scalar(name: string, v: number): string {
    return this.init(name, [], Float32Array.of(v));
  }

  /** Conv2D and DepthwiseConv2D: NHWC kernels to ONNX's [out, in/group, kh, kw] */
  private conv(l: KerasLayer, x: Value, depthwise: boolean): Value {
    const c = l.config;
    const [kh, kw] = pair(c.kernel_size, `${c.name}.kernel_size`);
    const [sh, sw] = pair(c.strides ?? 1, `${c.name}.strides`);
    const [dh, dw] = pair(c.dilation_rate ?? 1, `${c.name}.dilation_rate`);
    const [cin, h, w] = x.shape as [number, number, number];
    const mult = depthwise ? num(c.depth_multiplier ?? 1, `${c.name}.depth_multiplier`) : 1;
    const cout = depthwise ? cin * mult : num(c.filters, `${c.name}.filters`);
    const k = this.weight(`${c.name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`, depthwise ? [kh, kw, cin, mult] : [kh, kw, cin, cout]);
    const inPer = depthwise ? 1 : cin;
    const W = new Float32Array(cout * inPer * kh * kw);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let a = 0; a < cin; a++)
          for (let b = 0; b < (depthwise ? mult : cout); b++) {
            const o = depthwise ? a * mult + b : b;
            const ic = depthwise ? 0 : a;
            W[((o * inPer + ic) * kh + i) * kw + j] = k[((i * kw + j) * cin + a) * (depthwise ? mult : cout) + b]!;
          }
    const same = c.padding === 'same';
    const [pt, pb, oh] = same ? samePads(h, kh, sh, dh) : [0, 0, Math.floor((h - (kh - 1) * dh - 1) / sh) + 1];
    const [pl, pr, ow] = same ? samePads(w, kw, sw, dw) : [0, 0, Math.floor((w - (kw - 1) * dw - 1) / sw) + 1];
    const inputs = [x.name, this.init(`${c.name}/W`, [cout, inPer, kh, kw], W)];
    if (c.use_bias !== false) inputs.push(this.init(`${c.name}/B`, [cout], this.weight(`${c.name}/bias`, [cout])));
    const y = this.op('Conv', inputs, c.name, [
      { name: 'kernel_shape', ints: [kh, kw] },
      { name: 'strides', ints: [sh, sw] },
      { name: 'dilations', ints: [dh, dw] },
      { name: 'pads', ints: [pt, pl, pb, pr] },
      { name: 'group', i: depthwise ? cin : 1 },
    ]);
    return { name: this.activation(y, c.activation, c.name), shape: [cout, oh, ow] };
  }

  private layer(l: KerasLayer, ins: Value[]): Value {
    const c = l.config;
    const x = ins[0]!;
    switch (l.class_name) {
      case 'Conv2D':
        return this.conv(l, x, false);
      case 'DepthwiseConv2D':
        return this.conv(l, x, true);
      case 'BatchNormalization': {
        const ch = x.shape[0]!;
        const ones = new Float32Array(ch).fill(1);
        const scale = c.scale === false ? ones : this.weight(`${c.name}/gamma`, [ch]);
        const bias = c.center === false ? new Float32Array(ch) : this.weight(`${c.name}/beta`, [ch]);
        const ins4 = [this.init(`${c.name}/s`, [ch], scale), this.init(`${c.name}/b`, [ch], bias), this.init(`${c.name}/m`, [ch], this.weight(`${c.name}/moving_mean`, [ch])), this.init(`${c.name}/v`, [ch], this.weight(`${c.name}/moving_variance`, [ch]))];
        return { name: this.op('BatchNormalization', [x.name, ...ins4], c.name, [{ name: 'epsilon', f: num(c.epsilon ?? 1e-3, `${c.name}.epsilon`) }]), shape: x.shape };
      }
      case 'ReLU': {
        const max = c.max_value;
        if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) throw new KerasConvertError(`layer ${c.name}: a ReLU with a negative slope or threshold is not one pifarm converts`);
        return { name: typeof max === 'number' ? this.op('Clip', [x.name, this.scalar(`${c.name}/lo`, 0), this.scalar(`${c.name}/hi`, max)], c.name) : this.op('Relu', [x.name], c.name), shape: x.shape };
      }
      case 'Activation':
        return { name: this.activation(x.name, c.activation, c.name), shape: x.shape };
      case 'ZeroPadding2D': {
        const p = c.padding as number[][] | number[] | number;
        const [[t, b], [le, r]] = Array.isArray(p) && Array.isArray(p[0]) ? (p as [[number, number], [number, number]]) : [pair(p, c.name), pair(p, c.name)];
        const padsName = `${c.name}/pads`;
        this.inits.push(int64Tensor(padsName, [0, 0, t, le, 0, 0, b, r]));
        return { name: this.op('Pad', [x.name, padsName], c.name), shape: [x.shape[0]!, x.shape[1]! + t + b, x.shape[2]! + le + r] };
      }
      case 'Add':
        return { name: this.op('Add', ins.map((v) => v.name), c.name), shape: x.shape };
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        const [kh, kw] = pair(c.pool_size, `${c.name}.pool_size`);
        const [sh, sw] = pair(c.strides ?? c.pool_size, `${c.name}.strides`);
        if (c.padding === 'same') throw new KerasConvertError(`layer ${c.name}: pooling with "same" padding is not one pifarm converts`);
        const [ch, h, w] = x.shape as [number, number, number];
        const op = l.class_name === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        return { name: this.op(op, [x.name], c.name, [{ name: 'kernel_shape', ints: [kh, kw] }, { name: 'strides', ints: [sh, sw] }]), shape: [ch, Math.floor((h - kh) / sh) + 1, Math.floor((w - kw) / sw) + 1] };
      }
      case 'GlobalAveragePooling2D':
        return { name: this.op('Flatten', [this.op('GlobalAveragePool', [x.name], `${c.name}/gap`)], c.name), shape: [x.shape[0]!] };
      case 'Flatten': {
        // Keras flattens NHWC: back to that order first
        const t = x.shape.length === 3 ? this.op('Transpose', [x.name], `${c.name}/nhwc`, [{ name: 'perm', ints: [0, 2, 3, 1] }]) : x.name;
        return { name: this.op('Flatten', [t], c.name), shape: [x.shape.reduce((a, d) => a * d, 1)] };
      }
      case 'Dense': {
        const units = num(c.units, `${c.name}.units`);
        const inputs = [x.name, this.init(`${c.name}/W`, [x.shape[0]!, units], this.weight(`${c.name}/kernel`, [x.shape[0]!, units]))];
        inputs.push(this.init(`${c.name}/B`, [units], c.use_bias === false ? new Float32Array(units) : this.weight(`${c.name}/bias`, [units])));
        return { name: this.activation(this.op('Gemm', inputs, c.name), c.activation, c.name), shape: [units] };
      }
      case 'Dropout':
        return x;
      default:
        throw new KerasConvertError(`layer ${c.name}: ${l.class_name} layers are not ones pifarm converts (it converts InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation, ZeroPadding2D, Add, Average/MaxPooling2D, GlobalAveragePooling2D, Flatten, Dense, Dropout)`);
    }
  }

  /** The ONNX bytes of the whole model; its input is NHWC [1, h, w, c] named "input". */
  convert(layers: KerasLayer[], inputShape: [number, number, number], outputLayer: string): Uint8Array {
    const [h, w, ch] = inputShape;
    const first = this.op('Transpose', ['input'], 'input/nchw', [{ name: 'perm', ints: [0, 3, 1, 2] }]);
    for (const l of layers) {
      if (l.class_name === 'InputLayer') {
        this.values.set(l.config.name, { name: first, shape: [ch, h, w] });
        continue;
      }
      const ins = inboundOf(l).map((n) => {
        const v = this.values.get(n);
        if (!v) throw new KerasConvertError(`layer ${l.config.name}: its input ${n} comes later or not at all (only layer graphs in order are converted)`);
        return v;
      });
      if (ins.length === 0) throw new KerasConvertError(`layer ${l.config.name}: no inbound layer`);
      this.values.set(l.config.name, this.layer(l, ins));
    }
    const out = this.values.get(outputLayer);
    if (!out) throw new KerasConvertError(`the output layer ${outputLayer} was not converted`);
    this.nodes.push(node('Identity', [out.name], ['output'], [], 'output'));
    return model({ nodes: this.nodes, initializers: this.inits, inputs: [valueInfo('input', [1, h, w, ch])], outputs: [valueInfo('output', [1, ...out.shape])], name: 'keras' }, 13);
  }
}
