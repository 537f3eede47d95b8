// The known-answer frame: before a node says it is ready it runs its block once on an input made
// from a seed and compares the output with what the control machine's engine computed for the
// same block and input. An engine build that crashes on this CPU (SIGILL, SIGSEGV) dies here, before
// any frame is routed to it, and one that computes wrong numbers is refused with its distance from
// the reference. Pure functions, shared by the control side (makeSelfTest) and the node (checkSelfTest).
import type { LoadedBlock } from '../engine/engine.js';
import { fillUniform } from '../model/prng.js';
import { size } from '../model/shapes.js';

export interface SelfTest {
  /** the input is the block's input filled with uniform values in [0, 1) from this seed */
  inputSeed: number;
  /** output positions compared, and the reference's values there */
  indices: number[];
  values: number[];
  /** sum of |output| over the whole output, the reference's */
  absSum: number;
  /** allowed distance, relative to max(1, the largest |reference value|) */
  tolerance: number;
  /** who computed the reference, e.g. "onnxruntime-node 1.30.0 cpu on x64" */
  reference: string;
}

export interface SelfTestResult {
  ok: boolean;
  /** largest |output - reference| over the compared values, relative to the scale */
  maxRelDiff: number;
  /** the whole output's |sum| against the reference's, relative */
  absSumRelDiff: number;
  ms: number;
  /** one line for logs and status */
  summary: string;
}

/** How many output values the known answer keeps (evenly spaced): enough to see every kernel's part. */
const SAMPLES = 512;

export function selfTestInput(length: number, seed: number): Float32Array {
  const x = new Float32Array(length);
  fillUniform(x, 0, length, seed, 0.5);
  for (let i = 0; i < length; i++) x[i] = x[i]! + 0.5;
  return x;
}

function sampleIndices(length: number): number[] {
  if (length <= SAMPLES) return Array.from({ length }, (_, i) => i);
  const step = length / SAMPLES;
  return Array.from({ length: SAMPLES }, (_, i) => Math.floor(i * step + step / 2));
}

function absSum(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.abs(v[i]!);
  return s;
}

export function makeSelfTest(output: Float32Array, inputSeed: number, reference: string, tolerance: number): SelfTest {
  const indices = sampleIndices(output.length);
  return { inputSeed, indices, values: indices.map((i) => output[i]!), absSum: absSum(output), tolerance, reference };
}

export function checkSelfTest(st: SelfTest, output: Float32Array, ms: number): SelfTestResult {
  const scale = Math.max(1, ...st.values.map(Math.abs));
  let maxRelDiff = 0;
  const last = st.indices[st.indices.length - 1] ?? 0;
  if (output.length <= last) {
    return { ok: false, maxRelDiff: Infinity, absSumRelDiff: Infinity, ms, summary: `known-answer frame: the output has ${output.length} values, the reference more than ${last}` };
  }
  st.indices.forEach((idx, k) => {
    const d = Math.abs(output[idx]! - st.values[k]!) / scale;
    maxRelDiff = Number.isNaN(d) ? Infinity : Math.max(maxRelDiff, d);
  });
  const sum = absSum(output);
  const absSumRelDiff = Math.abs(sum - st.absSum) / Math.max(1, st.absSum);
  const ok = maxRelDiff <= st.tolerance && absSumRelDiff <= st.tolerance;
  const diff = `max difference ${maxRelDiff.toExponential(1)}, sum ${absSumRelDiff.toExponential(1)} (tolerance ${st.tolerance})`;
  const summary = ok
    ? `known-answer frame ok in ${ms} ms: ${diff} from ${st.reference}`
    : `known-answer frame wrong: ${diff} from ${st.reference}`;
  return { ok, maxRelDiff, absSumRelDiff, ms, summary };
}

export class SelfTestError extends Error {}

/** The result when the block gives the known answer; throws SelfTestError, saying by how much, when not. */
export async function runSelfTest(block: LoadedBlock, st: SelfTest): Promise<SelfTestResult> {
  const t0 = Date.now();
  const out = await block.run(selfTestInput(size(block.inputShape), st.inputSeed));
  const r = checkSelfTest(st, out, Date.now() - t0);
  if (!r.ok) throw new SelfTestError(r.summary);
  return r;
}
