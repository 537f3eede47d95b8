// Topology files: the YAML that `pifarm plan` writes and `farm.topology` / `pifarm demo --topology`
// accept. A topology is a model plus its stages, each `{role, blocks|layers, replicas, shards}` as
// in roles/<model>.yaml presets. Extra keys `devices` and `predicted` are informational.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { stringify } from 'yaml';
import { checkStagesCoverModel, loadModelSpec, modelNames, parseStage, type StageSpec } from '../model/spec.js';
import { YamlCheckError, YamlSource } from '../inventory/yaml-source.js';
import { defaultModelsDir, isImportedModel, loadImportedModel, type ImportedModel } from '../model/imported.js';
import { shardProblem } from '../engine/imported-stage.js';

export interface TopologyFile {
  model: string;
  name: string;
  stages: StageSpec[];
  /** devices as the paper counts them (nodes + sender), when the file says */
  devices?: number;
}

export class TopologyFileError extends YamlCheckError {}

const KEYS = ['model', 'name', 'devices', 'stages', 'predicted'] as const;

/** Reads and checks a topology file; throws TopologyFileError naming file:line:col and the field. */
export function loadTopologyFile(path: string, modelsDir?: string): TopologyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TopologyFileError([{ file: path, line: 1, col: 1, field: '', message: `cannot read the topology file: ${(e as Error).message}` }]);
  }
  return parseTopologyText(text, path, modelsDir);
}

export function parseTopologyText(text: string, file: string, modelsDir = defaultModelsDir()): TopologyFile {
  const src = new YamlSource(file, text);
  if (src.issues.length) throw new TopologyFileError(src.issues);
  const root = src.toJS() as Record<string, unknown> | null;
  if (!root || typeof root !== 'object' || Array.isArray(root)) {
    src.add([], 'expected a mapping with model, name and stages');
    throw new TopologyFileError(src.issues);
  }
  src.checkKeys([], root, KEYS);
  src.checkDuplicateKeys([], 'key');
  const models = modelNames();
  const model = root.model;
  const imported = typeof model === 'string' && !models.includes(model) && isImportedModel(modelsDir, model);
  if (typeof model !== 'string' || (!models.includes(model) && !imported)) {
    src.add(['model'], `expected one of ${models.join(', ')}, or a model imported into ${modelsDir}`);
    throw new TopologyFileError(src.issues);
  }
  const name = root.name === undefined ? basename(file, extname(file)) : root.name;
  if (typeof name !== 'string' || !name) src.add(['name'], 'expected a name for this topology');
  if (root.devices !== undefined && (!Number.isInteger(root.devices) || (root.devices as number) < 2)) {
    src.add(['devices'], 'expected the device count (nodes plus the sender), an integer >= 2');
  }
  if (imported) return importedTopology(src, root, model, name as string, loadImportedModel(modelsDir, model), modelsDir);
  const spec = loadModelSpec(model);
  const stages: StageSpec[] = [];
  if (!Array.isArray(root.stages) || root.stages.length === 0) {
    src.add(['stages'], 'expected a list of stages {role, blocks|layers, replicas, shards}');
  } else {
    root.stages.forEach((raw, i) => {
      try {
        stages.push(parseStage(raw, spec.layers, model));
      } catch (e) {
        src.add(['stages', i], (e as Error).message);
      }
    });
    if (stages.length === root.stages.length) {
      const problem = checkStagesCoverModel(spec, stages);
      if (problem) src.add(['stages'], problem);
    }
  }
  if (src.issues.length) throw new TopologyFileError(src.issues);
  const out: TopologyFile = { model, name: name as string, stages };
  if (root.devices !== undefined) out.devices = root.devices as number;
  return out;
}

/**
 * The YAML text of a topology, in the form loadTopologyFile reads. Stages are written with
 * layer ranges ("first..last") so a cut inside a block survives; `header` lines become comments.
 */
export function topologyToYaml(t: TopologyFile, header: string[] = [], predicted?: Record<string, unknown>): string {
  // one flow mapping per stage reads like the presets in roles/*.yaml
  const flow = (o: Record<string, unknown>) => stringify(o, { collectionStyle: 'flow', flowCollectionPadding: true, lineWidth: 0 }).trim();
  const lines = header.map((h) => `# ${h}`.trimEnd());
  lines.push(`model: ${t.model}`, `name: ${stringify(t.name).trim()}`);
  if (t.devices !== undefined) lines.push(`devices: ${t.devices}`);
  lines.push('stages:');
  for (const s of t.stages) {
    const o: Record<string, unknown> = { role: s.role, layers: s.layers.length === 1 ? [s.layers[0]] : `${s.layers[0]}..${s.layers[s.layers.length - 1]}` };
    if (s.replicas !== 1) o.replicas = s.replicas;
    if (s.shards !== 1) o.shards = s.shards;
    lines.push(`  - ${flow(o)}`);
  }
  if (predicted) lines.push(`predicted: ${flow(predicted)}`);
  return lines.join('\n') + '\n';
}

/**
 * The stages of an imported model: `layers: FROM..TO` names two of its cut tensors (pifarm model
 * show lists them); the first stage starts at the input, each next one where the last ended, the
 * last ends at the output. A stage of one dense layer (a Gemm, or a MatMul and an Add) may be split into shards by output units.
 */
function importedTopology(src: YamlSource, root: Record<string, unknown>, model: string, name: string, pkg: ImportedModel, modelsDir: string): TopologyFile {
  const cuts = pkg.cuts.map((c) => c.tensor);
  const stages: StageSpec[] = [];
  if (!Array.isArray(root.stages) || root.stages.length === 0) src.add(['stages'], 'expected a list of stages {role, layers: FROM..TO, replicas}');
  else {
    let at = cuts[0]!;
    (root.stages as Record<string, unknown>[]).forEach((raw, i) => {
      const range = typeof raw?.layers === 'string' ? raw.layers.split('..') : [];
      const [from, to] = range.map((x) => x.trim());
      const replicas = raw?.replicas ?? 1;
      if (typeof raw?.role !== 'string' || !raw.role) return src.add(['stages', i, 'role'], 'expected the stage\'s role name');
      if (range.length !== 2 || !cuts.includes(from!) || !cuts.includes(to!)) return src.add(['stages', i, 'layers'], `expected FROM..TO, two cut points of ${model} (${cuts.join(', ')})`);
      if (from !== at) return src.add(['stages', i, 'layers'], `the stage must start at ${at}, where the one before it ends`);
      if (cuts.indexOf(to!) <= cuts.indexOf(from!)) return src.add(['stages', i, 'layers'], `${to} does not come after ${from}`);
      if (!Number.isInteger(replicas) || (replicas as number) < 1) return src.add(['stages', i, 'replicas'], 'expected an integer >= 1');
      const shards = raw.shards ?? 1;
      if (!Number.isInteger(shards) || (shards as number) < 1 || (shards as number) > 8) return src.add(['stages', i, 'shards'], 'expected an integer from 1 to 8');
      const problem = (shards as number) > 1 ? shardProblem(modelsDir, pkg, cuts.indexOf(from!), cuts.indexOf(to!)) : null;
      if (problem) return src.add(['stages', i, 'shards'], problem);
      stages.push({ role: raw.role, layers: [from!, to!], replicas: replicas as number, shards: shards as number });
      at = to!;
    });
    if (stages.length === root.stages.length && at !== cuts[cuts.length - 1]) src.add(['stages'], `the last stage ends at ${at}, not at the output ${cuts[cuts.length - 1]}`);
  }
  if (src.issues.length) throw new TopologyFileError(src.issues);
  const out: TopologyFile = { model, name, stages };
  if (root.devices !== undefined) out.devices = root.devices as number;
  return out;
}
