// A VGG16 in the ONNX model zoo's shape and names (Caffe's: data_0 [1, 3, 224, 224] NCHW, conv1_1 ..
// conv5_3, pool1 .. pool5, fc6 .. fc8 as Gemm with transB, prob), full size with random weights
// (138 M parameters, 553 MB), written with the project's ONNX writer: what the imported-model
// benchmarks (npm run bench -- zoo-vgg16) and the planner's full-size test run, since the zoo's
// file itself is not fetched (nothing is downloaded at run time).
import { Bytes, model, node, tensor, valueInfo, type Message } from '../engine/onnx-proto.js';

const FLOAT = 1;

/** Weights of a trained VGG16's scale (He-like: sqrt(2 / fan-in)), from a fixed LCG. */
function weights(count: number, fanIn: number, seed: number): Uint8Array {
  const v = new Float32Array(count);
  const scale = Math.sqrt(2 / fanIn) * Math.sqrt(3);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return new Uint8Array(v.buffer);
}

export function zooVgg16(): Uint8Array {
  const nodes: Message[] = [];
  const inits: Message[] = [];
  let seed = 1;
  const init = (name: string, dims: number[], fanIn: number) => {
    inits.push(tensor(name, dims, FLOAT, new Bytes(weights(dims.reduce((a, d) => a * d, 1), fanIn, seed++))));
    return name;
  };
  let x = 'data_0';
  let cin = 3;
  [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]].forEach(([convs, cout], b) => {
    for (let i = 1; i <= convs!; i++) {
      const name = `conv${b + 1}_${i}`;
      nodes.push(node('Conv', [x, init(`${name}_w_0`, [cout!, cin, 3, 3], cin * 9), init(`${name}_b_0`, [cout!], 1e9)], [name], [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'pads', ints: [1, 1, 1, 1] }, { name: 'strides', ints: [1, 1] }], name));
      nodes.push(node('Relu', [name], [`relu${b + 1}_${i}`], [], `relu${b + 1}_${i}`));
      x = `relu${b + 1}_${i}`;
      cin = cout!;
    }
    nodes.push(node('MaxPool', [x], [`pool${b + 1}`], [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }], `pool${b + 1}`));
    x = `pool${b + 1}`;
  });
  nodes.push(node('Flatten', [x], ['flatten'], [], 'flatten'));
  x = 'flatten';
  let inputs = 512 * 7 * 7;
  for (const [name, units, relu] of [['fc6', 4096, 'relu6'], ['fc7', 4096, 'relu7'], ['fc8', 1000, '']] as const) {
    nodes.push(node('Gemm', [x, init(`${name}_w_0`, [units, inputs], inputs), init(`${name}_b_0`, [units], 1e9)], [name], [{ name: 'transB', i: 1 }], name));
    x = name;
    if (relu) {
      nodes.push(node('Relu', [name], [relu], [], relu));
      x = relu;
    }
    inputs = units;
  }
  nodes.push(node('Softmax', [x], ['prob'], [{ name: 'axis', i: 1 }], 'prob'));
  return model({ nodes, initializers: inits, inputs: [valueInfo('data_0', [1, 3, 224, 224])], outputs: [valueInfo('prob', [1, 1000])], name: 'vgg16-zoo' }, 13);
}
