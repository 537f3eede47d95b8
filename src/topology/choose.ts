// The one place that turns `--preset | --topology | --plan` (and a model) into the stages a run
// uses, with the model checks: the demo, `pifarm bench farm` and the benchmarks on virtual Pis
// all choose through it, so the same flags mean the same topology everywhere.
import { findPreset, loadModelSpec, modelNames, type StageSpec } from '../model/spec.js';
import { isImportedModel, loadImportedModel, type ImportedModel } from '../model/imported.js';
import type { DeviceProfile } from './cost-model.js';
import { loadTopologyFile } from './file.js';
import { presetOnImported } from './imported-preset.js';
import { planImported } from './plan-imported.js';
import { planTopology, type Plan } from './plan.js';

/** The preset a model runs when none is named: the paper's largest farm for it. */
export const DEFAULT_PRESET: Record<string, string> = { alexnet: 'alexnet-6', vgg16: 'vgg16-11' };

export class TopologyChoiceError extends Error {
  readonly userFacing = true;
}

export interface TopologyRequest {
  preset?: string;
  /** a topology file written by `pifarm plan` */
  topology?: string;
  /** plan for `devices` devices of `device` */
  plan?: boolean;
  model?: string;
  devices?: number;
  /** the device to plan for (an emulated Pi); default the cost model's Pi 3 */
  device?: DeviceProfile;
  /** with none of the three given: the model's default preset (else an error) */
  defaultPreset?: boolean;
  /** where imported models are (--models): `model` may name one of them */
  modelsDir?: string;
  /** plan with the shared medium (default: none, every process on one machine as in quick mode) */
  sharedMedium?: boolean;
}

export interface ChosenTopology {
  model: string;
  /** the preset's name, the file's topology name, or "plan-N" */
  name: string;
  stages: StageSpec[];
  how: 'preset' | 'file' | 'plan';
  /** how: 'plan' */
  plan?: Plan;
  /** the package, when the model is an imported one */
  imported?: ImportedModel;
}

export function chooseRunTopology(r: TopologyRequest): ChosenTopology {
  const given = [r.preset, r.topology, r.plan].filter(Boolean).length;
  if (given > 1 || (given === 0 && !r.defaultPreset)) throw new TopologyChoiceError(`give exactly one of --preset, --topology${r.defaultPreset ? '' : ', --plan'}`);
  const imported = importedModel(r);
  if (imported) return pickImported(r, imported);
  if (r.model) loadModelSpec(r.model); // an unknown model fails with the valid names
  const chosen = pick(r);
  if (r.model && r.model !== chosen.model) throw new TopologyChoiceError(`${chosen.how === 'preset' ? `preset ${chosen.name} is a ${chosen.model} preset` : `the topology is for ${chosen.model}`}, not ${r.model}`);
  return chosen;
}

function pick(r: TopologyRequest): ChosenTopology {
  if (r.topology) {
    const t = loadTopologyFile(r.topology);
    return { model: t.model, name: t.name, stages: t.stages, how: 'file' };
  }
  if (r.plan) {
    if (!r.model) throw new TopologyChoiceError('--plan needs --model');
    if (r.devices === undefined || !Number.isInteger(r.devices) || r.devices < 2) throw new TopologyChoiceError(`--plan needs --devices N (nodes plus the sender, >= 2)${r.devices === undefined ? '' : `, got ${r.devices}`}`);
    const plan = planTopology({ model: r.model, devices: r.devices, ...(r.device ? { profile: r.device } : {}) });
    return { model: r.model, name: `plan-${r.devices}`, stages: plan.stages, how: 'plan', plan };
  }
  const name = r.preset ?? DEFAULT_PRESET[r.model ?? 'alexnet'];
  if (!name) throw new TopologyChoiceError(`no default preset for model "${r.model}"; give --preset`);
  const p = findPreset(name);
  return { model: p.model, name, stages: p.stages, how: 'preset' };
}

function importedModel(r: TopologyRequest): ImportedModel | undefined {
  if (!r.model || modelNames().includes(r.model) || !r.modelsDir || !isImportedModel(r.modelsDir, r.model)) return undefined;
  return loadImportedModel(r.modelsDir, r.model);
}

/** An imported model: a topology file of its cut points, a paper preset mapped onto its layers, or a plan over its cut points. */
function pickImported(r: TopologyRequest, m: ImportedModel): ChosenTopology {
  const base = { model: m.name, imported: m };
  if (r.topology) {
    const t = loadTopologyFile(r.topology, r.modelsDir);
    if (t.model !== m.name) throw new TopologyChoiceError(`the topology is for ${t.model}, not ${m.name}`);
    return { ...base, name: t.name, stages: t.stages, how: 'file' };
  }
  if (r.plan) {
    if (r.devices === undefined || !Number.isInteger(r.devices) || r.devices < 2) throw new TopologyChoiceError(`--plan needs --devices N (nodes plus the sender, >= 2)${r.devices === undefined ? '' : `, got ${r.devices}`}`);
    const plan = planImported(m, { devices: r.devices, sharedMedium: r.sharedMedium ?? false, ...(r.device ? { profile: r.device } : {}) });
    return { ...base, name: `plan-${r.devices}`, stages: plan.stages, how: 'plan', plan };
  }
  if (!r.preset) throw new TopologyChoiceError(`${m.name} is an imported model: give --plan --devices N, --topology FILE or a paper preset (--preset vgg16-11 on an imported VGG16)`);
  return { ...base, name: r.preset, stages: presetOnImported(m, findPreset(r.preset)), how: 'preset' };
}

/** "block1 x1 -> fc1 x2 (2 shards) -> fc2 x1": a topology in one line. */
export function stagesText(stages: StageSpec[]): string {
  return stages.map((s) => `${s.role} x${s.replicas}${s.shards > 1 ? ` (${s.shards} shards)` : ''}`).join(' -> ');
}
