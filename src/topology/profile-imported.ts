// Measured stage times for an imported model (`pifarm plan --model NAME --profile local`): each
// range between two neighbouring cut points cut out as its own graph, loaded in onnxruntime on
// this machine and run a few times; the medians become the device profile's layerSeconds, keyed
// by the tensor each range starts at, which the cost model uses instead of its formula
// (imported-cost.ts; the formula knows nothing of an operator's real cost: a depthwise
// convolution's MAC is far dearer than a dense one's). Each range pays a session's per-run
// overhead (nsfwjs' MobileNetV2: 85 ranges summed to 26 ms against 3 ms for the whole graph in
// one session), so the whole graph is timed too and every range scaled by whole / sum: the
// ranges say where the time goes, the whole graph how much there is.
import { totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { importedStage } from '../engine/imported-stage.js';
import { graphPath, type ImportedModel } from '../model/imported.js';
import type { DeviceProfile } from './cost-model.js';
import { medianSeconds } from './profile.js';

export async function profileImportedLocal(modelsDir: string, m: ImportedModel, o: { threads?: number; runs?: number; log?: (s: string) => void } = {}): Promise<DeviceProfile> {
  const ort = await import('onnxruntime-node');
  const runs = o.runs ?? 3;
  const layerSeconds: Record<string, number> = {};
  const time = async (graph: Uint8Array, input: (typeof m.cuts)[number]) => {
    const session = await ort.InferenceSession.create(graph, { intraOpNumThreads: o.threads ?? 1, interOpNumThreads: 1 });
    try {
      const dims = input.dims.map((d) => (d < 0 ? 1 : d));
      const x = new ort.Tensor('float32', new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(0.5), dims);
      return await medianSeconds(() => session.run({ [input.tensor]: x }), runs);
    } finally {
      await session.release();
    }
  };
  for (let k = 0; k + 1 < m.cuts.length; k++) {
    layerSeconds[m.cuts[k]!.tensor] = await time(importedStage(modelsDir, m, k, k + 1), m.cuts[k]!);
    if (o.log && (k + 1) % 20 === 0) o.log(`profiled ${k + 1} of ${m.cuts.length - 1} cut ranges`);
  }
  const sum = Object.values(layerSeconds).reduce((a, x) => a + x, 0);
  const total = await time(readFileSync(graphPath(modelsDir, m)), m.cuts[0]!);
  for (const t of Object.keys(layerSeconds)) layerSeconds[t] = (layerSeconds[t]! * total) / sum;
  // the effective GFLOPS over the whole graph scales what the measurements do not cover (a node's own I/O)
  return { name: `local (onnxruntime-node, ${o.threads ?? 1} thread(s))`, gflops: (2 * m.macs) / total / 1e9, ramMb: Math.round(totalmem() / 2 ** 20), layerSeconds };
}
