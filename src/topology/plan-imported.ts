// `topology: auto` for an imported model. Not the exact search the built-in models get (that
// needs each operator's cost on a Pi, which only the built-in layer types have), a heuristic on
// the package's cut points: for every stage count k, the k stages of about equal MACs; the nodes
// left over go one at a time to the stage with the most MACs per replica; the k with the highest
// predicted IPS wins (fewer stages on ties). A stage's time is 2 x its MACs at the device's
// effective GFLOPS plus the per-message overhead; the shared medium carries every cut tensor sent.
import { balancedCuts, type ImportedModel } from '../model/imported.js';
import type { StageSpec } from '../model/spec.js';
import { DEFAULT_COST_MODEL, HOP_OVERHEAD_S, networkIps, PI3, type CostModel, type DeviceProfile } from './cost-model.js';

export interface ImportedPlan {
  stages: StageSpec[];
  predictedIps: number;
  /** per stage: predicted seconds per frame on one device */
  serviceS: number[];
}

/** `segmentS`: measured seconds of each cut range (profile-imported.ts), instead of MACs at the device's GFLOPS. */
export function planImported(m: ImportedModel, nodes: number, device: DeviceProfile = PI3, cm: CostModel = DEFAULT_COST_MODEL, segmentS?: number[]): ImportedPlan {
  if (nodes < 1) throw new Error(`no node device to run ${m.name} on`);
  let best: ImportedPlan | undefined;
  for (let k = 1; k <= Math.min(nodes, m.cuts.length - 1); k++) {
    const at = balancedCuts(m, k);
    const macs = at.slice(0, -1).map((from, i) => m.cuts.slice(from, at[i + 1]).reduce((a, c) => a + c.macsToNext, 0));
    const computeS = segmentS ? at.slice(0, -1).map((from, i) => segmentS.slice(from, at[i + 1]).reduce((a, x) => a + x, 0)) : macs.map((x) => (2 * x) / (device.gflops * 1e9));
    const serviceS = computeS.map((x) => x + 2 * HOP_OVERHEAD_S);
    const replicas = serviceS.map(() => 1);
    for (let spare = nodes - serviceS.length; spare > 0; spare--) {
      let slow = 0;
      serviceS.forEach((s, i) => {
        if (s / replicas[i]! > serviceS[slow]! / replicas[slow]!) slow = i;
      });
      replicas[slow]!++;
    }
    const bytes = at.reduce((a, c) => a + m.cuts[c]!.bytes, 0);
    const ips = Math.min(...serviceS.map((s, i) => replicas[i]! / s), networkIps(bytes, cm));
    const stages = at.slice(0, -1).map((from, i) => ({ role: `s${i}`, layers: [m.cuts[from]!.tensor, m.cuts[at[i + 1]!]!.tensor], replicas: replicas[i]!, shards: 1 }));
    if (!best || ips > best.predictedIps * (1 + 1e-9)) best = { stages, predictedIps: ips, serviceS };
  }
  return best!;
}
