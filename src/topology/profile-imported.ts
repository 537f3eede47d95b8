// Measured stage times for an imported model (`pifarm plan --model NAME --profile local|HOST`):
// each range between two neighbouring cut points cut out as its own graph, loaded in the engine
// (the host's onnxruntime build) and run a few times; the medians become the device profile's
// layerSeconds, keyed by the tensor each range starts at, which the cost model uses instead of its
// formula (imported-cost.ts; the formula knows nothing of an operator's real cost: a depthwise
// convolution's MAC is far dearer than a dense one's). Each range pays a session's per-run
// overhead and loses the fusions across its ends (nsfwjs' MobileNetV2: 85 ranges summed to 26 ms
// against 3 ms for the whole graph in one session), so the whole graph is timed too and every
// range scaled by whole / sum: the ranges say where the time goes, the whole graph how much there
// is. A host whose RAM cannot hold the whole graph keeps the ranges' own times, and says so.
// Runs on a Pi too (profile-main.ts --imported).
import { totalmem } from 'node:os';
import { createEngine } from '../engine/index.js';
import { importedStages } from '../engine/imported-stage.js';
import { graphPath, type ImportedCut, type ImportedModel } from '../model/imported.js';
import { IMPORTED_LOAD_FACTOR, NODE_RUNTIME_MB, type DeviceProfile } from './cost-model.js';
import { medianSeconds } from './profile.js';


export interface ImportedProfileOptions {
  /** an engine name or choice (onnx, auto...); default onnx */
  engine?: string;
  threads?: number;
  runs?: number;
  log?: (s: string) => void;
}

export async function profileImportedLocal(modelsDir: string, m: ImportedModel, o: ImportedProfileOptions = {}): Promise<DeviceProfile & { scaledToWhole: boolean }> {
  const engine = await createEngine(o.engine ?? 'onnx', { threads: o.threads ?? 1 });
  if (!engine.loadGraph) throw new Error(`the ${engine.name} engine cannot run an imported model's graphs; profile it with the onnx engine`);
  const runs = o.runs ?? 3;
  const dims = (c: ImportedCut) => c.dims.map((d) => (d < 0 ? 1 : d));
  const time = async (graph: Uint8Array | string, from: ImportedCut, to: ImportedCut) => {
    const block = await engine.loadGraph!({ graph, input: from.tensor, inputShape: dims(from).slice(1), outputShape: dims(to).slice(1), threads: o.threads ?? 1 });
    try {
      const x = new Float32Array(dims(from).reduce((a, d) => a * d, 1)).fill(0.5);
      return await medianSeconds(() => block.run(x), runs);
    } finally {
      await block.dispose();
    }
  };
  const stage = importedStages(modelsDir, m);
  const layerSeconds: Record<string, number> = {};
  for (let k = 0; k + 1 < m.cuts.length; k++) {
    layerSeconds[m.cuts[k]!.tensor] = await time(stage(k, k + 1), m.cuts[k]!, m.cuts[k + 1]!);
    if (o.log && (k + 1) % 20 === 0) o.log(`profiled ${k + 1} of ${m.cuts.length - 1} cut ranges`);
  }
  const ramMb = Math.round(totalmem() / 2 ** 20);
  const sum = Object.values(layerSeconds).reduce((a, x) => a + x, 0);
  const wholeFits = NODE_RUNTIME_MB + (IMPORTED_LOAD_FACTOR * m.params * 4) / 1e6 < 0.8 * ramMb;
  if (wholeFits) {
    const total = await time(graphPath(modelsDir, m), m.cuts[0]!, m.cuts[m.cuts.length - 1]!);
    for (const t of Object.keys(layerSeconds)) layerSeconds[t] = (layerSeconds[t]! * total) / sum;
  } else o.log?.(`the whole graph (${((m.params * 4) / 1e6).toFixed(0)} MB of weights) is not timed in ${ramMb} MB of RAM: the ranges' own times are kept (a little high)`);
  const seconds = wholeFits ? Object.values(layerSeconds).reduce((a, x) => a + x, 0) : sum;
  // the effective GFLOPS over the whole graph scales what the measurements do not cover (a node's own I/O)
  return { name: `local (${engine.describe()}, ${o.threads ?? 1} thread(s))`, gflops: (2 * m.macs) / seconds / 1e9, ramMb, layerSeconds, scaledToWhole: wholeFits };
}
