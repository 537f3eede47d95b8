// Where an imported graph can be cut: the tensors through which every path from the input to the
// output passes. Walking the nodes in their (topological) order, a tensor is a cut point when,
// right after the node that makes it, it is the only value still waiting for a consumer: nothing
// made earlier is needed later, so the nodes before and after it are two stages joined by that
// one tensor. A residual block's skip connection keeps its input alive across the block, and an
// inception module's branches keep one another alive until their concat, so both stay whole.
// Constants (initializers, Constant nodes and what only they feed) are not values in flight: a
// stage that needs one carries it.
import type { OnnxModel, OnnxNode } from './onnx-read.js';
import { OnnxReadError } from './onnx-read.js';

export interface CutPoint {
  /** the tensor's name */
  tensor: string;
  /** index of the node that makes it (-1: the graph's input) */
  after: number;
}

export interface GraphCuts {
  /** the one graph input that is not an initializer */
  input: string;
  output: string;
  /** the input, every cut point in order, the output */
  cuts: CutPoint[];
  /** nodes computed from constants only: every stage that uses their outputs carries them */
  constantNodes: Set<number>;
}

/** The one real input and output of a graph (initializers listed as inputs do not count). */
function endpoints(m: OnnxModel, file: string): { input: string; output: string } {
  const inputs = m.inputs.filter((v) => !m.initializers.has(v.name));
  if (inputs.length !== 1) throw new OnnxReadError(`${file}: the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}); pifarm streams one image tensor into a model`);
  if (m.outputs.length !== 1) throw new OnnxReadError(`${file}: the graph has ${m.outputs.length} outputs (${m.outputs.map((v) => v.name).join(', ')}); pifarm needs one probability tensor`);
  return { input: inputs[0]!.name, output: m.outputs[0]!.name };
}

export function findCuts(m: OnnxModel, file: string): GraphCuts {
  const { input, output } = endpoints(m, file);
  const constant = new Set<string>(m.initializers.keys());
  const constantNodes = new Set<number>();
  const made = new Set<string>([input, ...constant]);
  m.nodes.forEach((n, i) => {
    for (const x of n.inputs) {
      if (x !== '' && !made.has(x)) throw new OnnxReadError(`${file}: node ${describeNode(n, i)} reads ${x} before any node makes it (the graph is not in topological order, or the tensor is missing)`);
    }
    n.outputs.forEach((o) => made.add(o));
    if (n.inputs.every((x) => x === '' || constant.has(x))) {
      constantNodes.add(i);
      n.outputs.forEach((o) => constant.add(o));
    }
  });
  if (!made.has(output)) throw new OnnxReadError(`${file}: no node makes the graph output ${output}`);

  // how many later readers each value still has (the graph output has one more: the sender)
  const readers = new Map<string, number>();
  const read = (x: string) => readers.set(x, (readers.get(x) ?? 0) + 1);
  for (const n of m.nodes) for (const x of n.inputs) if (x !== '' && !constant.has(x)) read(x);
  read(output);
  const live = new Set<string>([input]);
  const cuts: CutPoint[] = [{ tensor: input, after: -1 }];
  m.nodes.forEach((n, i) => {
    if (constantNodes.has(i)) return;
    for (const x of n.inputs) {
      if (x === '' || constant.has(x)) continue;
      const left = readers.get(x)! - 1;
      readers.set(x, left);
      if (left === 0) live.delete(x);
    }
    for (const o of n.outputs) if ((readers.get(o) ?? 0) > 0) live.add(o);
    if (live.size === 1) {
      const [only] = live;
      if (only !== output && n.outputs.includes(only!)) cuts.push({ tensor: only!, after: i });
    }
  });
  const last = m.nodes.findIndex((n) => n.outputs.includes(output));
  cuts.push({ tensor: output, after: last });
  return { input, output, cuts, constantNodes };
}

export function describeNode(n: OnnxNode, i: number): string {
  return `${n.name ? `"${n.name}"` : `#${i}`} (${n.op})`;
}

/** The nodes of the stage between two cut points: those after `from` up to the one that makes `to`, and the constants they read. */
export function stageNodes(m: OnnxModel, g: GraphCuts, from: CutPoint, to: CutPoint): number[] {
  const body: number[] = [];
  for (let i = from.after + 1; i <= to.after; i++) if (!g.constantNodes.has(i)) body.push(i);
  const needed = new Set(body.flatMap((i) => m.nodes[i]!.inputs));
  // constant nodes feed each other: take them backwards so each one's own inputs are found
  const consts: number[] = [];
  for (let i = m.nodes.length - 1; i >= 0; i--) {
    if (!g.constantNodes.has(i) || !m.nodes[i]!.outputs.some((o) => needed.has(o))) continue;
    consts.push(i);
    m.nodes[i]!.inputs.forEach((x) => needed.add(x));
  }
  return [...consts.reverse(), ...body].sort((a, b) => a - b);
}
