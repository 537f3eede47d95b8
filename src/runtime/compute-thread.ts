// A block as the node sees it, computed in a worker thread (compute-worker.ts): the same
// LoadedBlock interface, its run() posting the input to the worker and resolving with the output.
import { Worker } from 'node:worker_threads';
import type { LoadedBlock } from '../engine/engine.js';
import type { StageGraph } from './config.js';

export interface ComputeLoad {
  engine: 'onnx' | 'tfjs';
  engineModule?: string;
  threads?: number;
  model: string;
  layers: string[];
  shard?: { index: number; count: number };
  seed: number;
  graph?: StageGraph;
}

export type ComputeRequest = { kind: 'run'; id: number; input: Float32Array } | { kind: 'dispose' };

export type ComputeReply =
  | { kind: 'loaded'; inputShape: number[]; outputShape: number[]; describe: string }
  | { kind: 'failed'; message: string }
  | { kind: 'output'; id: number; output: Float32Array }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'disposed' };

const WORKER = new URL('./compute-worker.js', import.meta.url);

/** Loads the block in a new worker thread; rejects with the load's own error. */
export function loadInThread(req: ComputeLoad): Promise<LoadedBlock & { describe: string }> {
  const worker = new Worker(WORKER, { workerData: req });
  const waiting = new Map<number, { resolve: (x: Float32Array) => void; reject: (e: Error) => void }>();
  let next = 0;
  let disposed: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    worker.on('error', (e) => {
      reject(e);
      for (const w of waiting.values()) w.reject(e);
      waiting.clear();
    });
    worker.on('exit', (code) => {
      const e = new Error(`the compute thread exited (code ${code})`);
      reject(e);
      for (const w of waiting.values()) w.reject(e);
      waiting.clear();
      disposed?.();
    });
    worker.on('message', (m: ComputeReply) => {
      if (m.kind === 'failed') {
        reject(new Error(m.message));
        void worker.terminate();
      } else if (m.kind === 'loaded') {
        resolve({
          inputShape: m.inputShape,
          outputShape: m.outputShape,
          describe: m.describe,
          run(input: Float32Array): Promise<Float32Array> {
            // a view into a larger buffer (an Avro message) is copied: transferring would take the whole buffer
            const own = input.byteOffset === 0 && input.buffer.byteLength === input.byteLength ? input : input.slice();
            const id = next++;
            return new Promise((res, rej) => {
              waiting.set(id, { resolve: res, reject: rej });
              worker.postMessage({ kind: 'run', id, input: own } satisfies ComputeRequest, [own.buffer as ArrayBuffer]);
            });
          },
          async dispose(): Promise<void> {
            await new Promise<void>((r) => {
              disposed = r;
              worker.postMessage({ kind: 'dispose' } satisfies ComputeRequest);
            });
            await worker.terminate();
          },
        });
      } else if (m.kind === 'output' || m.kind === 'error') {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.kind === 'output') w?.resolve(m.output);
        else w?.reject(new Error(m.message));
      } else if (m.kind === 'disposed') disposed?.();
    });
  });
}
