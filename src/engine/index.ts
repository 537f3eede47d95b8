// Engine selection by name. Engines are imported lazily so a host without onnxruntime
// (32-bit Pi OS) can still run the tfjs engine, and the reverse.
import type { Engine, EngineName } from './engine.js';
import { ENGINE_NAMES, EngineError } from './engine.js';

export * from './engine.js';

export interface EngineOptions {
  threads?: number;
}

export async function createEngine(name: string, opts: EngineOptions = {}): Promise<Engine> {
  switch (name as EngineName) {
    case 'onnx':
      return (await import('./onnx.js')).createOnnxEngine(opts);
    case 'tfjs': {
      // Through a variable so this file compiles before/without tfjs.ts (see engine/tfjs.ts).
      const path = './tfjs.js';
      const mod = (await import(path)) as { createTfjsEngine(o: EngineOptions): Promise<Engine> };
      return mod.createTfjsEngine(opts);
    }
    default:
      throw new EngineError(`unknown engine "${name}"; valid engines: ${ENGINE_NAMES.join(', ')}`);
  }
}
