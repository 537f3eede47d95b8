// Measured stage times for an imported model (`pifarm plan --model NAME --profile local`): each
// range between two neighbouring cut points cut out as its own graph, loaded in onnxruntime on
// this machine and run a few times; the medians replace the planner's MACs-over-GFLOPS guess
// (plan-imported.ts), which knows nothing of an operator's real cost (a depthwise convolution's
// MAC is far dearer than a dense one's). Each range pays a session's per-run overhead, so a stage
// of many small ranges is a little overestimated.
import { importedStage } from '../engine/imported-stage.js';
import type { ImportedModel } from '../model/imported.js';
import { medianSeconds } from './profile.js';

export interface ImportedProfile {
  /** seconds per frame of each range cut k -> cut k+1 */
  segmentS: number[];
  /** what measured it */
  describe: string;
}

export async function profileImportedLocal(modelsDir: string, m: ImportedModel, o: { threads?: number; runs?: number; log?: (s: string) => void } = {}): Promise<ImportedProfile> {
  const ort = await import('onnxruntime-node');
  const runs = o.runs ?? 3;
  const segmentS: number[] = [];
  for (let k = 0; k + 1 < m.cuts.length; k++) {
    const from = m.cuts[k]!;
    const session = await ort.InferenceSession.create(importedStage(modelsDir, m, k, k + 1), { intraOpNumThreads: o.threads ?? 1, interOpNumThreads: 1 });
    try {
      const dims = from.dims.map((d) => (d < 0 ? 1 : d));
      const x = new ort.Tensor('float32', new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(0.5), dims);
      segmentS.push(await medianSeconds(() => session.run({ [from.tensor]: x }), runs));
    } finally {
      await session.release();
    }
    if (o.log && (k + 1) % 20 === 0) o.log(`profiled ${k + 1} of ${m.cuts.length - 1} cut ranges`);
  }
  return { segmentS, describe: `onnxruntime-node on this machine, ${o.threads ?? 1} thread(s)` };
}
