// The worker thread a node computes in: it loads the block (or an imported model's stage graph)
// with the node's engine and runs one frame at a time, so the node's event loop stays free to
// receive, send, merge and answer probes while a frame computes (seconds on a Pi). Inputs and
// outputs move between the threads as transferred buffers, not copies.
import { parentPort, workerData } from 'node:worker_threads';
import { createEngine } from '../engine/index.js';
import type { LoadedBlock } from '../engine/engine.js';
import { loadModelSpec } from '../model/spec.js';
import type { ComputeLoad, ComputeReply, ComputeRequest } from './compute-thread.js';

async function load(req: ComputeLoad): Promise<{ block: LoadedBlock; describe: string }> {
  const opts = req.engineModule ? { threads: req.threads, module: req.engineModule } : { threads: req.threads };
  const engine = await createEngine(req.engine, opts);
  if (req.graph) {
    if (!engine.loadGraph) throw new Error(`a stage of an imported model needs the onnx engine (onnxruntime: an x64 or arm64 host), not ${engine.name}`);
    const g = req.graph;
    const block = await engine.loadGraph({ graph: g.file, input: g.input, inputShape: g.inputDims.slice(1), outputShape: g.outputDims.slice(1), ...(g.preprocess ? { preprocess: g.preprocess } : {}), ...(req.threads ? { threads: req.threads } : {}) });
    return { block, describe: engine.describe() };
  }
  const block = await engine.load({ model: loadModelSpec(req.model), layers: req.layers, ...(req.shard ? { shard: req.shard } : {}), seed: req.seed, ...(req.threads ? { threads: req.threads } : {}) });
  return { block, describe: engine.describe() };
}

/** The output's buffer to transfer: its own when it owns all of it, else a copy that does. */
function owned(x: Float32Array): Float32Array {
  return x.byteOffset === 0 && x.buffer.byteLength === x.byteLength ? x : x.slice();
}

const port = parentPort!;
let block: LoadedBlock | undefined;
const reply = (r: ComputeReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);

load(workerData as ComputeLoad).then(
  (b) => {
    block = b.block;
    reply({ kind: 'loaded', inputShape: b.block.inputShape, outputShape: b.block.outputShape, describe: b.describe });
  },
  (e: Error) => reply({ kind: 'failed', message: e.message }),
);

port.on('message', (m: ComputeRequest) => {
  if (m.kind === 'dispose') {
    void block?.dispose().finally(() => reply({ kind: 'disposed' }));
    return;
  }
  block!.run(m.input).then(
    (out) => {
      const o = owned(out);
      try {
        reply({ kind: 'output', id: m.id, output: o }, [o.buffer as ArrayBuffer]);
      } catch {
        // a buffer the engine keeps (not transferable): sent as a copy
        reply({ kind: 'output', id: m.id, output: o.slice() });
      }
    },
    (e: Error) => reply({ kind: 'error', id: m.id, message: e.message }),
  );
});
