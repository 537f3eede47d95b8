// Text rendering of a model's layer table and preset boundaries, for `pifarm model show`.
import type { ModelSpec, PresetSpec } from '../model/spec.js';
import type { LayerInfo, StageInfo } from '../model/shapes.js';
import { totals } from '../model/shapes.js';
import { table } from '../report/text-table.js';

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
const kb = (b: number) => (b >= 1e6 ? mb(b) : `${(b / 1e3).toFixed(1)} KB`);
const g = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : `${(n / 1e6).toFixed(1)} M`);

export function formatModelTable(spec: ModelSpec, layers: LayerInfo[], presets: { preset: PresetSpec; stages: StageInfo[] }[]): string {
  const t = totals(spec);
  const out: string[] = [];
  out.push(`${spec.name}: input ${spec.input.join('x')}, ${g(t.macs)} MACs, ${(t.params / 1e6).toFixed(2)} M parameters (${mb(t.paramBytes)})`);
  out.push('');
  out.push(
    table(
      ['layer', 'type', 'block', 'output', 'MACs', 'params', 'out bytes'],
      layers.map((l) => [l.layer.name, l.layer.type, l.layer.block, l.outShape.join('x'), l.macs ? g(l.macs) : '-', l.params ? l.params.toLocaleString('en') : '-', kb(l.outBytes)]),
    ),
  );
  for (const { preset, stages } of presets) {
    out.push('');
    out.push(`preset ${preset.name} (${preset.devices} devices including the sender)`);
    out.push(
      table(
        ['stage', 'layers', 'replicas', 'shards', 'MACs/proc', 'weights/proc', 'sends/frame'],
        stages.map((s) => [s.stage.role, `${s.stage.layers[0]}..${s.stage.layers[s.stage.layers.length - 1]}`, String(s.stage.replicas), String(s.stage.shards), g(s.macs), mb(s.paramBytes), kb(s.outBytes)]),
      ),
    );
  }
  return out.join('\n');
}
