// The TensorFlow.js engine: the portable fallback (32-bit Pi OS has no onnxruntime build).
// tfjs-node where it installs, else tfjs with the WebAssembly backend (see tfjs-backend.ts);
// a block is a chain of tfjs ops with the deterministic weights (see tfjs-block.ts).
import type { BlockRequest, Engine, LoadedBlock } from './engine.js';
import { loadTfjs } from './tfjs-backend.js';
import { loadTfjsBlock } from './tfjs-block.js';

export interface TfjsEngineOptions {
  /**
   * Intra-op threads. The wasm backend runs one thread in Node whatever is asked (tfjs keeps its
   * threaded build to browsers); tfjs-node uses TensorFlow's own pool. Kept for the interface.
   */
  threads?: number;
}

export async function createTfjsEngine(opts: TfjsEngineOptions = {}): Promise<Engine> {
  const rt = await loadTfjs();
  const asked = opts.threads ?? 1;
  const note = rt.backend === 'wasm' && asked > 1 ? `; ${asked} threads asked, wasm in Node runs 1` : '';
  return {
    name: 'tfjs',
    describe: () => rt.description + note,
    async load(req: BlockRequest): Promise<LoadedBlock> {
      return loadTfjsBlock(rt.tf, req);
    },
  };
}
