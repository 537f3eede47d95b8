// The default engine: onnxruntime-node running a block graph built in memory (onnx-graph.ts).
// Fast on x64 and arm64; 32-bit Pi OS has no onnxruntime build, so tfjs is the fallback there.
// Which onnxruntime package is loaded is the host's engine build (engine/builds.ts): the same API,
// different releases, because not every release runs on every ARM CPU.
import { createRequire } from 'node:module';
import type { BlockRequest, Engine, GraphRequest, LoadedBlock } from './engine.js';
import { EngineError, preprocessPixels } from './engine.js';
import { buildBlockGraph } from './onnx-graph.js';
import { size } from '../model/shapes.js';

type Ort = typeof import('onnxruntime-node');

const ortModules = new Map<string, Promise<Ort>>();
function loadOrt(module: string): Promise<Ort> {
  let p = ortModules.get(module);
  if (!p) {
    p = (import(module) as Promise<Ort & { default?: Ort }>).then(
      (m) => (m.InferenceSession ? m : m.default!),
      (e: unknown) => {
        throw new EngineError(`${module} is not usable on this host (${process.platform}/${process.arch}): ${(e as Error).message}; use --engine tfjs`);
      },
    );
    ortModules.set(module, p);
  }
  return p;
}

function ortVersion(module: string): string {
  try {
    const req = createRequire(import.meta.url);
    return (req(`${module}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

export interface OnnxEngineOptions {
  /** intra-op threads per session; default 1 (a farm runs one process per core) */
  threads?: number;
  /** the onnxruntime package to load (an engine build's module); default onnxruntime-node */
  module?: string;
}

export async function createOnnxEngine(opts: OnnxEngineOptions = {}): Promise<Engine> {
  const module = opts.module ?? 'onnxruntime-node';
  const ort = await loadOrt(module);
  const version = ortVersion(module);
  return {
    name: 'onnx',
    describe: () => `onnxruntime-node ${version} cpu`,
    async load(req: BlockRequest): Promise<LoadedBlock> {
      const graph = buildBlockGraph(req.model, req.layers, req.seed, req.shard);
      const threads = req.threads ?? opts.threads ?? 1;
      let session: import('onnxruntime-node').InferenceSession;
      try {
        session = await ort.InferenceSession.create(graph.bytes, {
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
        });
      } catch (e) {
        throw new EngineError(`onnxruntime refused the graph of ${req.model.name} ${req.layers[0]}..${req.layers[req.layers.length - 1]}: ${(e as Error).message}`);
      }
      // Drop our copy of the model bytes: onnxruntime holds its own.
      (graph as { bytes?: Uint8Array }).bytes = undefined;
      const inLen = size(graph.inputShape);
      const dims = [1, ...graph.inputShape];
      // Dense weights are inputs held once here and passed by reference on every run.
      const weights: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const w of graph.weightFeeds) weights[w.name] = new ort.Tensor('float32', w.data, w.dims);
      return {
        inputShape: graph.inputShape,
        outputShape: graph.outputShape,
        async run(input: Float32Array): Promise<Float32Array> {
          if (input.length !== inLen) throw new EngineError(`input has ${input.length} values, the block expects ${inLen} ([${graph.inputShape.join(', ')}])`);
          const out = await session.run({ ...weights, [graph.inputName]: new ort.Tensor('float32', input, dims) });
          return out[graph.outputName]!.data as Float32Array;
        },
        async dispose() {
          await session.release();
        },
      };
    },
    async loadGraph(req: GraphRequest): Promise<LoadedBlock> {
      let session: import('onnxruntime-node').InferenceSession;
      try {
        const o = { intraOpNumThreads: req.threads ?? opts.threads ?? 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;
        session = typeof req.graph === 'string' ? await ort.InferenceSession.create(req.graph, o) : await ort.InferenceSession.create(req.graph, o);
      } catch (e) {
        throw new EngineError(`onnxruntime refused the stage graph (input ${req.input}): ${(e as Error).message}`);
      }
      const inLen = size(req.inputShape);
      const dims = [1, ...req.inputShape];
      const output = session.outputNames[0]!;
      const pre = req.preprocess;
      const pixelShape = pre ? ((pre.layout === 'NCHW' ? [req.inputShape[1], req.inputShape[2], req.inputShape[0]] : req.inputShape) as [number, number, number]) : undefined;
      return {
        inputShape: pixelShape ?? req.inputShape,
        outputShape: req.outputShape,
        async run(input: Float32Array): Promise<Float32Array> {
          if (input.length !== inLen) throw new EngineError(`input has ${input.length} values, the stage expects ${inLen} ([${req.inputShape.join(', ')}])`);
          const x = pre ? preprocessPixels(input, pixelShape!, pre) : input;
          const out = await session.run({ [req.input]: new ort.Tensor('float32', x, dims) });
          return out[output]!.data as Float32Array;
        },
        async dispose() {
          await session.release();
        },
      };
    },
  };
}
