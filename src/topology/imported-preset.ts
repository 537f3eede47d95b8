// The paper's presets on an imported AlexNet or VGG16: `topology: vgg16-11` for the model zoo's
// VGG16 (or a Keras one) with its real weights. A preset's stage ends after a block of the
// built-in model (the convolutions up to a max-pool, or a dense layer); the imported graph is
// matched by its layers, not their names (the zoo calls them conv1_1 or vgg0_conv0_fwd, Keras
// block1_conv1): the same counts of convolutions, max-pools and dense layers in the same order,
// and each boundary goes to the cut point after the same layer. A dense stage is exactly its
// dense layer (a Gemm, or a MatMul and the Add of its bias), so the presets' sharded fc1 splits.
import type { ImportedModel } from '../model/imported.js';
import { loadModelSpec, type LayerType, type PresetSpec, type StageSpec } from '../model/spec.js';

type Kind = 'conv' | 'pool' | 'dense';
type Counts = Record<Kind, number>;

const ONNX_KIND: Record<string, Kind> = { Conv: 'conv', MaxPool: 'pool', Gemm: 'dense', MatMul: 'dense' };
const SPEC_KIND: Partial<Record<LayerType, Kind>> = { conv: 'conv', maxpool: 'pool', dense: 'dense' };

export class PresetMatchError extends Error {
  readonly userFacing = true;
}

const zero = (): Counts => ({ conv: 0, pool: 0, dense: 0 });
const same = (a: Counts, b: Counts, kinds: Kind[] = ['conv', 'pool', 'dense']) => kinds.every((k) => a[k] === b[k]);
const describe = (c: Counts) => `${c.conv} convolution(s), ${c.pool} max-pool(s), ${c.dense} dense layer(s)`;

/** The layer counts made before each cut point (cut k's tensor comes after the nodes of segments 0..k-1). */
function countsAtCuts(m: ImportedModel): Counts[] {
  const out: Counts[] = [zero()];
  for (const c of m.cuts.slice(0, -1)) {
    const next = { ...out[out.length - 1]! };
    for (const op of c.opsToNext!) if (ONNX_KIND[op]) next[ONNX_KIND[op]!]++;
    out.push(next);
  }
  return out;
}

/** The preset's stages on the imported model: each stage from cut point to cut point. */
export function presetOnImported(m: ImportedModel, p: PresetSpec): StageSpec[] {
  if (m.cuts.some((c, k) => k < m.cuts.length - 1 && !c.opsToNext)) throw new PresetMatchError(`${m.name} was imported by an older pifarm, whose package does not list each cut point's operators: import it again (pifarm model import ${m.source} --name ${m.name})`);
  const spec = loadModelSpec(p.model);
  const kinds = spec.layers.map((l) => SPEC_KIND[l.type]);
  const countsAfter = (layer: number): Counts => kinds.slice(0, layer + 1).reduce((c, k) => (k ? { ...c, [k]: c[k] + 1 } : c), zero());
  const at = countsAtCuts(m);
  const total = at[at.length - 1]!;
  const want = countsAfter(kinds.length - 1);
  if (!same(total, want)) throw new PresetMatchError(`preset ${p.name} is for ${p.model}'s layers (${describe(want)}); ${m.name} has ${describe(total)}: give "auto" or a topology file of its cut points (pifarm model show ${m.name})`);
  const bounds = [0];
  for (const s of p.stages.slice(0, -1)) {
    const last = spec.layers.findIndex((l) => l.name === s.layers[s.layers.length - 1]);
    const c = countsAfter(last);
    let k: number;
    if (kinds[last] === 'dense') {
      // right after the dense layer: its activation goes with the next stage, so this one is one dense layer
      k = at.findIndex((x) => x.dense === c.dense);
      if (m.cuts[k - 1]?.opsToNext?.[0] === 'MatMul' && m.cuts[k]?.opsToNext?.join() === 'Add') k++;
    } else if (kinds[last + 1] === 'dense' || spec.layers[last + 1]?.type === 'flatten') {
      // the last cut before the first dense layer: a Flatten or Reshape stays with the convolutions
      k = at.length - 1 - [...at].reverse().findIndex((x) => same(x, c));
      if (k === at.length) k = -1;
    } else k = at.findIndex((x) => same(x, c, ['conv', 'pool']));
    if (k <= bounds[bounds.length - 1]!) throw new PresetMatchError(`preset ${p.name}: no cut point of ${m.name} after the layer that ends ${s.role} (${describe(c)} before it)`);
    bounds.push(k);
  }
  bounds.push(m.cuts.length - 1);
  return p.stages.map((s, i) => ({ role: s.role, layers: [m.cuts[bounds[i]!]!.tensor, m.cuts[bounds[i + 1]!]!.tensor], replicas: s.replicas, shards: s.shards }));
}
