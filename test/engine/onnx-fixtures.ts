// ONNX graphs in the model zoo's shapes, written with the project's own ONNX writer and random
// weights, for the import tests: a ResNet-style net (Conv, BatchNormalization, skip connections,
// GlobalAveragePool, Gemm, Softmax) on an NCHW "data_0" input, a Caffe-style AlexNet head (LRN,
// grouped convolution, MaxPool), and broken variants.
import { Bytes, Message, model, node, tensor, valueInfo } from '../../src/engine/onnx-proto.js';

const FLOAT = 1;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Weights of 1 KB or more kept outside the graph, as exporters write large models: in `location`, one after another. */
export interface ExternalData {
  location: string;
  chunks: Uint8Array[];
}

/** A TensorProto whose data is at `offset` in `location` (external_data entries, data_location EXTERNAL). */
function externalTensor(name: string, dims: number[], location: string, offset: number, length: number): Message {
  const m = new Message();
  for (const d of dims) m.varint(1, d);
  m.varint(2, FLOAT);
  m.string(8, name);
  for (const [k, v] of [['location', location], ['offset', String(offset)], ['length', String(length)]]) m.message(13, new Message().string(1, k!).string(2, v!));
  return m.varint(14, 1);
}

class Graph {
  readonly nodes: Message[] = [];
  readonly inits: Message[] = [];
  private readonly rnd: () => number;
  private externalBytes = 0;
  constructor(
    seed = 7,
    private readonly external?: ExternalData,
  ) {
    this.rnd = random(seed);
  }
  weight(name: string, dims: number[], scale = 0.3, offset = 0): string {
    const n = dims.reduce((a, d) => a * d, 1);
    const v = new Float32Array(n).map(() => offset + scale * this.rnd());
    const data = new Uint8Array(v.buffer);
    if (this.external && data.length >= 1024) {
      this.inits.push(externalTensor(name, dims, this.external.location, this.externalBytes, data.length));
      this.external.chunks.push(data);
      this.externalBytes += data.length;
    } else this.inits.push(tensor(name, dims, FLOAT, new Bytes(data)));
    return name;
  }
  op(op: string, inputs: string[], out: string, attrs: Parameters<typeof node>[3] = []): string {
    this.nodes.push(node(op, inputs, [out], attrs, out));
    return out;
  }
  conv(x: string, name: string, cin: number, cout: number, k = 3, group = 1, stride = 1): string {
    const pad = (k - 1) / 2;
    return this.op('Conv', [x, this.weight(`${name}_w`, [cout, cin / group, k, k]), this.weight(`${name}_b`, [cout], 0.1)], name, [
      { name: 'kernel_shape', ints: [k, k] },
      { name: 'pads', ints: [pad, pad, pad, pad] },
      { name: 'strides', ints: [stride, stride] },
      { name: 'group', i: group },
    ]);
  }
  bn(x: string, name: string, c: number): string {
    return this.op('BatchNormalization', [x, this.weight(`${name}_s`, [c], 0.2, 1), this.weight(`${name}_b`, [c], 0.1), this.weight(`${name}_m`, [c], 0.1), this.weight(`${name}_v`, [c], 0.2, 1)], name, [{ name: 'epsilon', f: 1e-5 }]);
  }
  bytes(input: [string, number[]], output: [string, number[]]): Uint8Array {
    return model({ nodes: this.nodes, initializers: this.inits, inputs: [valueInfo(...input)], outputs: [valueInfo(...output)], name: 'fixture' }, 13);
  }
}

/** Tensors made inside the residual blocks, before their Add: never cut points. */
export const RESNET_INSIDE_BLOCKS = ['b1_c1', 'b1_bn1', 'b1_r1', 'b1_c2', 'b1_bn2', 'b2_c1', 'b2_bn1', 'b2_r1', 'b2_c2', 'b2_bn2'];

/** data_0 [1,3,32,32] -> stem -> two residual blocks -> GAP -> Gemm(10) -> Softmax */
export function resnetLike(seed = 7, external?: ExternalData): Uint8Array {
  const g = new Graph(seed, external);
  let x = g.op('Relu', [g.bn(g.conv('data_0', 'stem', 3, 8), 'stem_bn', 8)], 'stem_relu');
  for (const b of ['b1', 'b2']) {
    const skip = x;
    let y = g.op('Relu', [g.bn(g.conv(x, `${b}_c1`, 8, 8), `${b}_bn1`, 8)], `${b}_r1`);
    y = g.bn(g.conv(y, `${b}_c2`, 8, 8), `${b}_bn2`, 8);
    x = g.op('Relu', [g.op('Add', [y, skip], `${b}_add`)], `${b}_out`);
  }
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x], 'gap')], 'flat');
  const logits = g.op('Gemm', [pooled, g.weight('fc_w', [10, 8]), g.weight('fc_b', [10], 0.1)], 'fc', [{ name: 'transB', i: 1 }]);
  g.op('Softmax', [logits], 'prob', [{ name: 'axis', i: 1 }]);
  return g.bytes(['data_0', [1, 3, 32, 32]], ['prob', [1, 10]]);
}

/** Caffe's AlexNet head: conv1 (stride 4) -> relu -> LRN -> maxpool -> grouped conv2 -> relu -> fc */
export function caffeAlexnetLike(seed = 11): Uint8Array {
  const g = new Graph(seed);
  let x = g.op('Relu', [g.conv('data_0', 'conv1', 3, 8, 5, 1, 2)], 'relu1');
  x = g.op('LRN', [x], 'norm1', [{ name: 'size', i: 5 }, { name: 'alpha', f: 1e-4 }, { name: 'beta', f: 0.75 }]);
  x = g.op('MaxPool', [x], 'pool1', [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'strides', ints: [2, 2] }]);
  x = g.op('Relu', [g.conv(x, 'conv2', 8, 16, 3, 2)], 'relu2');
  x = g.op('Flatten', [x], 'flat');
  g.op('Gemm', [x, g.weight('fc8_w', [5, 16 * 7 * 7], 0.05), g.weight('fc8_b', [5], 0.1)], 'fc8', [{ name: 'transB', i: 1 }]);
  return g.bytes(['data_0', [1, 3, 32, 32]], ['fc8', [1, 5]]);
}

/** a node whose operator no runtime knows */
export function unknownOp(): Uint8Array {
  const g = new Graph();
  const x = g.conv('data_0', 'conv1', 3, 4);
  g.op('FancyGlow', [x], 'glow');
  return g.bytes(['data_0', [1, 3, 8, 8]], ['glow', [1, 4, 8, 8]]);
}

/** an input that is not an image */
export function notAnImage(): Uint8Array {
  const g = new Graph();
  g.op('Gemm', ['features', g.weight('w', [3, 10]), g.weight('b', [3])], 'out', [{ name: 'transB', i: 1 }]);
  return g.bytes(['features', [1, 10]], ['out', [1, 3]]);
}

/** a 1000-class head on a tiny image: ImageNet's labels by default */
export function imagenetHead(): Uint8Array {
  const g = new Graph(5);
  const x = g.op('Flatten', [g.op('GlobalAveragePool', [g.conv('data_0', 'conv', 3, 4)], 'gap')], 'flat');
  g.op('Softmax', [g.op('Gemm', [x, g.weight('fc_w', [1000, 4]), g.weight('fc_b', [1000])], 'fc', [{ name: 'transB', i: 1 }])], 'prob', [{ name: 'axis', i: 1 }]);
  return g.bytes(['data_0', [1, 3, 8, 8]], ['prob', [1, 1000]]);
}

/** a dense layer as Keras and PyTorch exports often write it: MatMul by [4, 10], then Add of a bias */
export function matmulHead(): Uint8Array {
  const g = new Graph(13);
  const x = g.op('Flatten', [g.op('GlobalAveragePool', [g.conv('data_0', 'conv', 3, 4)], 'gap')], 'flat');
  const fc = g.op('Add', [g.op('MatMul', [x, g.weight('fc_w', [4, 10])], 'mm'), g.weight('fc_b', [10], 0.1)], 'fc');
  g.op('Softmax', [fc], 'prob', [{ name: 'axis', i: 1 }]);
  return g.bytes(['data_0', [1, 3, 8, 8]], ['prob', [1, 10]]);
}

const pool2 = (g: Graph, x: string, name: string) => g.op('MaxPool', [x], name, [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }]);
const dense = (g: Graph, x: string, name: string, units: number, inputs: number) => g.op('Gemm', [x, g.weight(`${name}_w`, [units, inputs], 0.2), g.weight(`${name}_b`, [units], 0.1)], name, [{ name: 'transB', i: 1 }]);

/** The zoo's VGG16 (Caffe names: conv1_1 .. conv5_3, pool1 .. pool5, fc6 .. fc8, prob), 4 channels wide on a 32x32 input */
export function vgg16ZooLike(seed = 17): Uint8Array {
  const g = new Graph(seed);
  let x = 'data_0';
  let cin = 3;
  [2, 2, 3, 3, 3].forEach((convs, b) => {
    for (let i = 1; i <= convs; i++) {
      x = g.op('Relu', [g.conv(x, `conv${b + 1}_${i}`, cin, 4)], `relu${b + 1}_${i}`);
      cin = 4;
    }
    x = pool2(g, x, `pool${b + 1}`);
  });
  x = g.op('Flatten', [x], 'flatten');
  x = g.op('Relu', [dense(g, x, 'fc6', 16, 4)], 'relu6');
  x = g.op('Relu', [dense(g, x, 'fc7', 16, 16)], 'relu7');
  g.op('Softmax', [dense(g, x, 'fc8', 10, 16)], 'prob', [{ name: 'axis', i: 1 }]);
  return g.bytes(['data_0', [1, 3, 32, 32]], ['prob', [1, 10]]);
}

/** The zoo's bvlcalexnet in miniature: five convolutions (LRN after the first two, grouped 2-4-5), three max-pools, fc6 .. fc8 */
export function alexnetZooLike(seed = 19): Uint8Array {
  const g = new Graph(seed);
  const lrn = (x: string, name: string) => g.op('LRN', [x], name, [{ name: 'size', i: 5 }, { name: 'alpha', f: 1e-4 }, { name: 'beta', f: 0.75 }]);
  let x = lrn(g.op('Relu', [g.conv('data_0', 'conv1', 3, 8, 3, 1, 2)], 'relu1'), 'norm1');
  x = pool2(g, x, 'pool1');
  x = pool2(g, lrn(g.op('Relu', [g.conv(x, 'conv2', 8, 8, 3, 2)], 'relu2'), 'norm2'), 'pool2');
  x = g.op('Relu', [g.conv(x, 'conv3', 8, 8)], 'relu3');
  x = g.op('Relu', [g.conv(x, 'conv4', 8, 8, 3, 2)], 'relu4');
  x = pool2(g, g.op('Relu', [g.conv(x, 'conv5', 8, 8, 3, 2)], 'relu5'), 'pool5');
  x = g.op('Flatten', [x], 'flatten');
  x = g.op('Relu', [dense(g, x, 'fc6', 16, 8 * 4 * 4)], 'relu6');
  x = g.op('Relu', [dense(g, x, 'fc7', 16, 16)], 'relu7');
  g.op('Softmax', [dense(g, x, 'fc8', 10, 16)], 'prob', [{ name: 'axis', i: 1 }]);
  return g.bytes(['data_0', [1, 3, 64, 64]], ['prob', [1, 10]]);
}

/** One conv, then a dense layer of 67 MB (8192 -> 2048) and a small one: a model whose dense layer is its weight */
export function wideDense(seed = 23): Uint8Array {
  const g = new Graph(seed);
  let x = g.op('Relu', [g.conv('data_0', 'conv1', 3, 8)], 'relu1');
  x = g.op('Flatten', [x], 'flatten');
  x = g.op('Relu', [dense(g, x, 'fc6', 2048, 8 * 32 * 32)], 'relu6');
  g.op('Softmax', [dense(g, x, 'fc7', 10, 2048)], 'prob', [{ name: 'axis', i: 1 }]);
  return g.bytes(['data_0', [1, 3, 32, 32]], ['prob', [1, 10]]);
}
