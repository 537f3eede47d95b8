// What `farm.topology` names: a preset of the model, "auto" (the planner decides at resolve time),
// or the path of a topology file (relative to the inventory's folder).
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { allPresets } from '../model/spec.js';
import type { StageSpec } from '../model/spec.js';
import { loadTopologyFile } from './file.js';
import { presetOnImported } from './imported-preset.js';
import { loadImportedModel } from '../model/imported.js';

export const AUTO = 'auto';

export type TopologyChoice =
  | { kind: 'preset'; name: string; stages: StageSpec[]; devices: number }
  | { kind: 'file'; name: string; path: string; stages: StageSpec[]; devices?: number }
  | { kind: 'auto' };

export function looksLikePath(topology: string): boolean {
  return topology.includes('/') || /\.ya?ml$/i.test(topology);
}

/**
 * Resolves the name to stages. Throws an Error with a plain message (the caller adds where it
 * was written); a topology file's own errors come as its TopologyFileError.
 */
export function chooseTopology(model: string, topology: string, baseDir: string, modelsDir?: string): TopologyChoice {
  if (topology === AUTO) return { kind: 'auto' };
  if (looksLikePath(topology)) {
    const path = isAbsolute(topology) ? topology : resolve(baseDir, topology);
    if (!existsSync(path)) throw new Error(`topology file ${path} does not exist; expected a preset name, "auto", or the path of a file written by pifarm plan`);
    const t = loadTopologyFile(path, modelsDir);
    if (t.model !== model) throw new Error(`the topology file ${topology} is for ${t.model}, but farm.model is ${model}`);
    return { kind: 'file', name: topology, path, stages: t.stages, ...(t.devices !== undefined ? { devices: t.devices } : {}) };
  }
  const presets = allPresets();
  const p = presets.find((x) => x.name === topology);
  const mine = presets.filter((x) => x.model === model).map((x) => x.name);
  if (modelsDir && mine.length === 0) {
    // an imported AlexNet or VGG16 runs the paper's presets, matched by its layers (imported-preset.ts)
    if (!p) throw new Error(`unknown topology "${topology}" for the imported model ${model}: give "auto", the path of a topology file (stages from cut point to cut point, pifarm model show ${model}), or a preset of the paper (${presets.map((x) => x.name).join(', ')}) if ${model} is an AlexNet or a VGG16`);
    return { kind: 'preset', name: p.name, stages: presetOnImported(loadImportedModel(modelsDir, model), p), devices: p.devices };
  }
  if (!p) throw new Error(`unknown topology "${topology}"; expected a preset of ${model} (${mine.join(', ')}), "auto", or the path of a topology file`);
  if (p.model !== model) throw new Error(`preset ${topology} is for ${p.model}, but farm.model is ${model}; presets of ${model}: ${mine.join(', ')}`);
  return { kind: 'preset', name: p.name, stages: p.stages, devices: p.devices };
}
