// What the nodes between two neighbouring cut points hold and move (model/imported.ts SegmentWork),
// for the planner's cost model (topology/imported-cost.ts): weights, activation traffic, the
// largest buffers, and whether the range is one dense layer that splits into shards. The
// sizes come from one probe run on a blank input that reports every float tensor's shape
// (floatTensors): a node's output is float when its first input is, except for the operators
// that make shapes, indexes, booleans or quantised values.
import type { OnnxModel } from '../model/onnx-read.js';
import type { SegmentWork } from '../model/imported.js';
import { denseLayer } from './imported-stage.js';

const FLOAT = 1;
/** operators whose first output is not of their first input's type */
const TYPE_CHANGING = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'Cast', 'CastLike', 'QuantizeLinear', 'DynamicQuantizeLinear', 'DequantizeLinear', 'ConstantOfShape', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf', 'OneHot', 'MatMulInteger', 'ConvInteger', 'QLinearConv', 'QLinearMatMul', 'Range', 'EyeLike', 'Where']);
/**
 * The nodes whose activations count as traffic: the built-in models' conv and pool layers (whose
 * fitted rate the cost model uses). Element-wise nodes (Relu, BatchNormalization, Add...) count
 * nothing: onnxruntime fuses most into the convolution before them, as the built-in layers hold
 * their activation.
 */
const SPATIAL = new Set(['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LRN']);

/** Every node output that is a float tensor, in graph order (the probe asks onnxruntime for their shapes). */
export function floatTensors(m: OnnxModel, input: string, constantNodes: Set<number>): string[] {
  const float = new Set<string>([input, ...[...m.initializers.values()].filter((t) => t.dataType === FLOAT).map((t) => t.name)]);
  const out: string[] = [];
  m.nodes.forEach((n, i) => {
    const first = n.inputs[0];
    const isFloat = n.op === 'DequantizeLinear' || (n.op === 'Cast' && n.ints.to?.[0] === FLOAT) || (!TYPE_CHANGING.has(n.op) && first !== undefined && float.has(first));
    if (!isFloat || !n.outputs[0]) return;
    float.add(n.outputs[0]);
    if (!constantNodes.has(i)) out.push(n.outputs[0]);
  });
  return out;
}

/** The work of the nodes `nodes` (one cut range, constants included), from the probed shapes (`dimsOf`; undefined: not a float tensor). */
export function segmentWork(m: OnnxModel, nodes: number[], constantNodes: Set<number>, dimsOf: (tensor: string) => number[] | undefined): SegmentWork {
  const bytesOf = (t: string) => {
    const d = dimsOf(t);
    return d ? d.reduce((a, x) => a * x, 1) * 4 : 0;
  };
  const w: SegmentWork = { weightBytes: 0, activationBytes: 0, largestPairBytes: 0 };
  const counted = new Set<string>();
  for (const i of nodes) {
    const n = m.nodes[i]!;
    for (const x of n.inputs) {
      const t = m.initializers.get(x);
      if (!t || counted.has(x)) continue;
      counted.add(x);
      w.weightBytes += t.dataBytes || t.dims.reduce((a, d) => a * d, 1) * 4;
    }
    if (constantNodes.has(i)) continue;
    const pair = n.inputs.filter((x) => x !== '' && !m.initializers.has(x)).reduce((a, x) => a + bytesOf(x), 0) + bytesOf(n.outputs[0] ?? '');
    if (SPATIAL.has(n.op)) w.activationBytes += pair;
    w.largestPairBytes = Math.max(w.largestPairBytes, pair);
  }
  const dense = denseLayer(m, nodes, 'range');
  if (typeof dense !== 'string') {
    const dims = m.initializers.get(dense.weights)!.dims;
    w.denseUnits = dense.transB ? dims[0]! : dims[1]!;
  }
  return w;
}
