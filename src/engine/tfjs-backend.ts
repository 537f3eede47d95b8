// Picks and initialises the TensorFlow.js backend once per process (tfjs backends are global state).
// 1. @tensorflow/tfjs-node (TensorFlow's C library) where it is installed: it is an optional
//    dependency whose install downloads a native library, so on many hosts it is simply absent or
//    broken; any import failure falls through to
// 2. @tensorflow/tfjs with the WebAssembly backend (XNNPACK, SIMD): pure npm, runs on every Pi.
//    In Node the .wasm must be read from disk: with setWasmPaths(folder) and the platform fetch
//    off, Emscripten's loader reads the file with fs. (With the platform fetch on, tfjs hands the
//    path to Node's global fetch, which rejects file paths.) tfjs refuses the threaded wasm build in
//    Node (tfjs issue #3830: its pthread workers are Blob URLs, which worker_threads cannot start),
//    so the wasm backend always runs one thread; a Pi gets its parallelism from replicas instead.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as TfNamespace from '@tensorflow/tfjs';
import { EngineError } from './engine.js';

export type Tf = typeof TfNamespace;

export interface TfjsRuntime {
  tf: Tf;
  backend: 'tensorflow' | 'wasm';
  /** for reports: which backend really runs and why */
  description: string;
}

let runtime: Promise<TfjsRuntime> | undefined;

/** The process-wide tfjs runtime; the first call decides the backend. */
export function loadTfjs(): Promise<TfjsRuntime> {
  runtime ??= init().catch((e: unknown) => {
    runtime = undefined;
    throw e;
  });
  return runtime;
}

async function init(): Promise<TfjsRuntime> {
  const nodeFailure = await tryTfjsNode();
  if (typeof nodeFailure !== 'string') return nodeFailure;
  return initWasm(nodeFailure);
}

/** The runtime on tfjs-node, or the reason it is not usable here. */
async function tryTfjsNode(): Promise<TfjsRuntime | string> {
  // Through a variable: the package is optional, so the compiler must not require its types.
  const name = '@tensorflow/tfjs-node';
  let tf: Tf;
  try {
    const mod = (await import(name)) as Tf & { default?: Tf };
    tf = mod.default ?? mod;
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code === 'ERR_MODULE_NOT_FOUND' ? 'tfjs-node not installed' : `tfjs-node unusable: ${firstLine(e)}`;
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return 'tfjs-node backend failed to start';
    await tf.ready();
  } catch (e) {
    return `tfjs-node backend failed: ${firstLine(e)}`;
  }
  tf.enableProdMode();
  return { tf, backend: 'tensorflow', description: `tfjs-node ${tf.version.tfjs} (TensorFlow C library, cpu)` };
}

async function initWasm(whyNotNode: string): Promise<TfjsRuntime> {
  const require = createRequire(import.meta.url);
  let tf: Tf;
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    tf = await import('@tensorflow/tfjs');
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new EngineError(`the tfjs engine needs @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm (npm install): ${firstLine(e)}`);
  }
  // The package's Node entry lives in dist/, next to the .wasm binaries.
  const folder = dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
  wasm.setWasmPaths(folder, false);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
    await tf.ready();
  } catch (e) {
    throw new EngineError(`tfjs wasm backend failed to start from ${folder} (${whyNotNode}): ${firstLine(e)}`);
  }
  if (!ok || tf.getBackend() !== 'wasm') throw new EngineError(`tfjs wasm backend failed to start from ${folder} (${whyNotNode})`);
  tf.enableProdMode();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = wasm.getThreadsCount();
  return {
    tf,
    backend: 'wasm',
    description: `tfjs ${tf.version.tfjs} wasm ${wasm.version_wasm}${simd ? ' simd' : ''}, ${threads} thread${threads === 1 ? '' : 's'} (${whyNotNode})`,
  };
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0]!;
}
