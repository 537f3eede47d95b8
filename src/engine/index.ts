// Engine selection by name. Engines are imported lazily so a host without onnxruntime
// (32-bit Pi OS) can still run the tfjs engine, and the reverse.
import type { Engine, EngineName } from './engine.js';
import { ENGINE_NAMES, EngineError } from './engine.js';
import { ENGINE_CHOICES, chooseBuild, type BuildArch, type CpuFacts } from './builds.js';

export * from './engine.js';

export interface EngineOptions {
  threads?: number;
  /** the onnxruntime package (an engine build's module, engine/builds.ts); default onnxruntime-node */
  module?: string;
}

/** This process's CPU as far as Node tells it (enough to pick a build: features decide only on a remote host). */
export function localCpu(): CpuFacts {
  const arch: BuildArch = process.arch === 'arm64' ? 'arm64' : process.arch === 'arm' ? 'armhf' : 'x64';
  return { arch, features: [] };
}

/**
 * An engine by name: "onnx" or "tfjs", or a farm.engine choice ("auto", a build id) resolved
 * for this machine's CPU.
 */
export async function createEngine(name: string, opts: EngineOptions = {}): Promise<Engine> {
  if (!ENGINE_NAMES.includes(name as EngineName)) {
    if (!ENGINE_CHOICES.includes(name)) throw new EngineError(`unknown engine "${name}"; valid engines: ${[...ENGINE_NAMES, ...ENGINE_CHOICES.filter((c) => !ENGINE_NAMES.includes(c as EngineName))].join(', ')}`);
    const build = chooseBuild(localCpu(), name, 'this machine');
    return createEngine(build.engine, { ...opts, module: build.module });
  }
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
