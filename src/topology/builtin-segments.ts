// The segments of a built-in model for the planner's search: its layers, each stage costed by the
// cost model's layer formula (or the device's measured layer times).
import { loadModelSpec } from '../model/spec.js';
import { stageInfos } from '../model/shapes.js';
import { modelLayers, stageCost } from './cost-model.js';
import type { Segments } from './plan-search.js';

export function builtInSegments(model: string): Segments {
  const spec = loadModelSpec(model);
  const layers = modelLayers(model);
  return {
    count: layers.length,
    outBytes: layers[layers.length - 1]!.outBytes,
    denseUnits: (i) => (layers[i]!.layer.type === 'dense' ? layers[i]!.layer.units : undefined),
    stage(from, to, shards, device, cm) {
      const info = stageInfos(spec, [{ role: 'x', layers: layers.slice(from, to).map((l) => l.layer.name), replicas: 1, shards }])[0]!;
      const c = stageCost(info, device, cm);
      return { serviceS: c.serviceS, bytesIn: info.inBytes, fits: c.fits };
    },
  };
}
