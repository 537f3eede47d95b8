// The known answer of a node's block (runtime/self-test.ts), computed here on the control machine
// with its own engine build: the reference every host's build must reproduce. Computed once per
// (model, layers, shard, seed, reference build) and kept under the state dir, so a redeploy loads
// nothing; concurrent hosts with the same block share one computation.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseBuild } from '../engine/builds.js';
import { createEngine, localCpu } from '../engine/index.js';
import type { Engine, LoadedBlock } from '../engine/engine.js';
import { size } from '../model/shapes.js';
import { loadModelSpec, type ModelSpec } from '../model/spec.js';
import { DEFAULT_TOLERANCE } from '../runtime/reference.js';
import type { NodeConfig } from '../runtime/config.js';
import { makeSelfTest, selfTestInput, type SelfTest } from '../runtime/self-test.js';

/** One input for every block: the known answer is about the engine, not about the frame. */
const INPUT_SEED = 0x5e1f7e57;

/**
 * `graphBytes`: the stage graph an imported model's node runs (cfg.graph names it by its path on
 * the host), so its known answer is computed from the very bytes the host gets.
 */
export function knownAnswers(stateDir: string, threads = 2, graphBytes?: (cfg: NodeConfig) => Uint8Array | undefined): (cfg: NodeConfig) => Promise<SelfTest> {
  const dir = join(stateDir, 'known-answers');
  const pending = new Map<string, Promise<SelfTest>>();
  const specs = new Map<string, ModelSpec>();
  const reference = chooseBuild(localCpu()).id; // a new onnxruntime here makes new known answers
  return (cfg) => {
    const g = cfg.graph;
    const bytes = g ? graphBytes?.(cfg) : undefined;
    if (g) {
      if (!bytes) return Promise.reject(new Error(`no stage graph for ${g.file} on this machine`));
      const key = createHash('sha256').update(bytes).update(JSON.stringify({ preprocess: g.preprocess, INPUT_SEED, reference })).digest('hex').slice(0, 24);
      return answerOf(key, async () => {
        const engine = await createEngine('onnx', { threads });
        return { engine, block: await engine.loadGraph!({ graph: bytes, input: g.input, inputShape: g.inputDims.slice(1), outputShape: g.outputDims.slice(1), ...(g.preprocess ? { preprocess: g.preprocess } : {}), threads }) };
      });
    }
    // asked for every node of every deploy: the spec is read once, the answer from the cache
    const spec = specs.get(cfg.model) ?? specs.set(cfg.model, loadModelSpec(cfg.model)).get(cfg.model)!;
    const shard = cfg.shard.count > 1 ? cfg.shard : undefined;
    const key = createHash('sha256').update(JSON.stringify({ spec, layers: cfg.layers, shard, seed: cfg.seed, INPUT_SEED, reference })).digest('hex').slice(0, 24);
    return answerOf(key, async () => {
      const engine = await createEngine('auto', { threads });
      return { engine, block: await engine.load({ model: spec, layers: cfg.layers, shard, seed: cfg.seed, threads }) };
    });
  };

  /** The known answer under `key`: from the cache file, or computed once by the loaded block. */
  function answerOf(key: string, load: () => Promise<{ engine: Engine; block: LoadedBlock }>): Promise<SelfTest> {
    let p = pending.get(key);
    if (!p) {
      p = compute(join(dir, `${key}.json`), async () => {
        const { engine, block } = await load();
        try {
          const out = await block.run(selfTestInput(size(block.inputShape), INPUT_SEED));
          return makeSelfTest(out, INPUT_SEED, `${engine.describe()} on ${process.arch}`, DEFAULT_TOLERANCE);
        } finally {
          await block.dispose();
        }
      });
      pending.set(key, p);
    }
    return p;
  }
}

async function compute(file: string, make: () => Promise<SelfTest>): Promise<SelfTest> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SelfTest;
  } catch {
    /* not computed yet */
  }
  const st = await make();
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(st));
  renameSync(`${file}.tmp`, file);
  return st;
}
