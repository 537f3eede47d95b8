// Model specs: the layer list of a network and the paper's presets, read from roles/<model>.yaml.
// The YAML is data checked at run time: a wrong field names the file, line and what was expected.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';

export type LayerType = 'conv' | 'maxpool' | 'flatten' | 'dense';
export type Activation = 'relu' | 'softmax' | 'linear';

export interface LayerSpec {
  name: string;
  type: LayerType;
  block: string;
  /** conv */
  filters?: number;
  kernel?: number;
  stride?: number;
  /** dense */
  units?: number;
  /** conv and dense: relu unless said otherwise */
  activation?: Activation;
}

/** A stage of a topology: a role name, the contiguous layers it runs, and how it is parallelised. */
export interface StageSpec {
  role: string;
  layers: string[];
  /** data parallelism: identical copies that frames are spread over */
  replicas: number;
  /** model parallelism: a single dense layer split by output units into this many slices */
  shards: number;
}

/** Node processes a stage needs: one per replica and shard. */
export function instances(s: Pick<StageSpec, 'replicas' | 'shards'>): number {
  return s.replicas * s.shards;
}

/** Node processes a topology needs. */
export function processCount(stages: readonly Pick<StageSpec, 'replicas' | 'shards'>[]): number {
  return stages.reduce((a, s) => a + instances(s), 0);
}

export interface PresetSpec {
  name: string;
  model: string;
  /** devices as the paper counts them: nodes plus the initial sender */
  devices: number;
  stages: StageSpec[];
}

export interface ModelSpec {
  name: string;
  input: [number, number, number];
  layers: LayerSpec[];
  presets: PresetSpec[];
  /** where the spec came from, for messages */
  file: string;
}

export class SpecError extends Error {}

/** The folder of roles/*.yaml, found relative to this file both in src/ (tests) and dist/src/. */
export function rolesDir(): string {
  const env = process.env.PIFARM_ROLES_DIR;
  if (env) return env;
  const here = fileURLToPath(new URL('.', import.meta.url));
  // src/model -> ../../roles ; dist/src/model -> ../../../roles
  for (const up of ['../../roles', '../../../roles']) {
    const dir = join(here, up);
    try {
      if (readdirSync(dir).some((f) => f.endsWith('.yaml'))) return dir;
    } catch {
      /* try the next candidate */
    }
  }
  throw new SpecError(`cannot find the roles/ folder near ${here}; set PIFARM_ROLES_DIR`);
}

export function modelNames(dir = rolesDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

const cache = new Map<string, ModelSpec>();

export function loadModelSpec(name: string, dir = rolesDir()): ModelSpec {
  const key = `${dir}\0${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const names = modelNames(dir);
  if (!names.includes(name)) {
    throw new SpecError(`unknown model "${name}"; valid models: ${names.join(', ')}`);
  }
  const file = join(dir, `${name}.yaml`);
  const spec = parseModelSpec(readFileSync(file, 'utf8'), file);
  cache.set(key, spec);
  return spec;
}

/** Every preset of every model, for name look-ups and messages. */
export function allPresets(dir = rolesDir()): PresetSpec[] {
  return modelNames(dir).flatMap((m) => loadModelSpec(m, dir).presets);
}

export function findPreset(name: string, dir = rolesDir()): PresetSpec {
  const all = allPresets(dir);
  const p = all.find((x) => x.name === name);
  if (!p) throw new SpecError(`unknown preset "${name}"; valid presets: ${all.map((x) => x.name).join(', ')}`);
  return p;
}

export function parseModelSpec(text: string, file: string): ModelSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new SpecError(`${file}:${pos.line}:${pos.col}: ${e.message}`);
  }
  const where = (path: (string | number)[]): string => {
    const node = doc.getIn(path, true) as YamlNode | undefined;
    const range = node && (node as { range?: [number, number, number] }).range;
    if (!range) return `${file}`;
    const p = lc.linePos(range[0]);
    return `${file}:${p.line}:${p.col}`;
  };
  const fail = (path: (string | number)[], msg: string): never => {
    throw new SpecError(`${where(path)}: ${path.join('.')}: ${msg}`);
  };
  const root = doc.toJS() as Record<string, unknown>;
  if (!isMap(doc.contents)) fail([], 'expected a mapping with model, input, layers, presets');

  const name = root.model;
  if (typeof name !== 'string' || !name) fail(['model'], 'expected the model name');
  const input = root.input;
  if (!Array.isArray(input) || input.length !== 3 || !input.every((n) => Number.isInteger(n) && n > 0)) {
    fail(['input'], 'expected [height, width, channels] as positive integers');
  }
  if (!isSeq(doc.get('layers'))) fail(['layers'], 'expected a list of layers');
  const layers: LayerSpec[] = [];
  const seen = new Set<string>();
  (root.layers as unknown[]).forEach((raw, i) => {
    const at = ['layers', i];
    const l = raw as Record<string, unknown>;
    const allowed = new Set(['name', 'type', 'block', 'filters', 'kernel', 'stride', 'units', 'activation']);
    for (const k of Object.keys(l ?? {})) if (!allowed.has(k)) fail([...at, k], `unknown key; expected one of ${[...allowed].join(', ')}`);
    if (typeof l.name !== 'string') fail([...at, 'name'], 'expected a layer name');
    if (seen.has(l.name as string)) fail([...at, 'name'], `duplicate layer name "${l.name}"`);
    seen.add(l.name as string);
    if (!['conv', 'maxpool', 'flatten', 'dense'].includes(l.type as string)) fail([...at, 'type'], 'expected conv, maxpool, flatten or dense');
    if (typeof l.block !== 'string') fail([...at, 'block'], 'expected the block this layer belongs to');
    const posInt = (k: string, dflt?: number): number | undefined => {
      const v = l[k] ?? dflt;
      if (v === undefined) return undefined;
      if (!Number.isInteger(v) || (v as number) <= 0) fail([...at, k], 'expected a positive integer');
      return v as number;
    };
    const layer: LayerSpec = { name: l.name as string, type: l.type as LayerType, block: l.block as string };
    if (layer.type === 'conv') {
      layer.filters = posInt('filters');
      layer.kernel = posInt('kernel');
      layer.stride = posInt('stride', 1);
      if (!layer.filters || !layer.kernel) fail(at, 'a conv layer needs filters and kernel');
    }
    if (layer.type === 'dense') {
      layer.units = posInt('units');
      if (!layer.units) fail(at, 'a dense layer needs units');
    }
    if (layer.type === 'conv' || layer.type === 'dense') {
      const a = l.activation ?? 'relu';
      if (!['relu', 'softmax', 'linear'].includes(a as string)) fail([...at, 'activation'], 'expected relu, softmax or linear');
      layer.activation = a as Activation;
    }
    layers.push(layer);
  });

  const presets: PresetSpec[] = [];
  const rawPresets = (root.presets ?? {}) as Record<string, unknown>;
  for (const [pname, rawP] of Object.entries(rawPresets)) {
    const p = rawP as Record<string, unknown>;
    const at = ['presets', pname];
    if (!Number.isInteger(p.devices)) fail([...at, 'devices'], 'expected the device count (nodes plus the sender)');
    if (!Array.isArray(p.stages) || p.stages.length === 0) fail([...at, 'stages'], 'expected a list of stages');
    const stages = (p.stages as unknown[]).map((rs, i) => {
      try {
        return parseStage(rs, layers, name as string);
      } catch (e) {
        return fail([...at, 'stages', i], (e as Error).message);
      }
    });
    presets.push({ name: pname, model: name as string, devices: p.devices as number, stages });
  }
  const spec: ModelSpec = { name: name as string, input: input as [number, number, number], layers, presets, file };
  for (const p of presets) {
    const problem = checkStagesCoverModel(spec, p.stages);
    if (problem) fail(['presets', p.name, 'stages'], problem);
  }
  return spec;
}

/**
 * One stage from data: `{role, blocks: [...]}` or `{role, layers: [...]}` (names, or "first..last"),
 * with optional replicas and shards (default 1). Throws a plain message; callers add the location.
 */
export function parseStage(raw: unknown, layers: LayerSpec[], model: string): StageSpec {
  const s = raw as Record<string, unknown>;
  if (!s || typeof s !== 'object') throw new Error('expected a mapping {role, blocks|layers, replicas, shards}');
  for (const k of Object.keys(s)) {
    if (!['role', 'blocks', 'layers', 'replicas', 'shards'].includes(k)) throw new Error(`unknown key "${k}"; expected role, blocks, layers, replicas, shards`);
  }
  if (typeof s.role !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(s.role)) throw new Error('role: expected a name of lower-case letters, digits, - or _');
  let names: string[];
  if (s.blocks !== undefined) {
    if (!Array.isArray(s.blocks)) throw new Error('blocks: expected a list of block names');
    const known = [...new Set(layers.map((l) => l.block))];
    names = [];
    for (const b of s.blocks as unknown[]) {
      if (!known.includes(b as string)) throw new Error(`blocks: unknown block "${String(b)}" of ${model}; valid blocks: ${known.join(', ')}`);
      names.push(...layers.filter((l) => l.block === b).map((l) => l.name));
    }
  } else if (s.layers !== undefined) {
    names = expandLayerList(s.layers, layers, model);
  } else {
    throw new Error('expected blocks or layers');
  }
  const count = (k: 'replicas' | 'shards'): number => {
    const v = s[k] ?? 1;
    if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${k}: expected a positive integer`);
    return v as number;
  };
  const stage: StageSpec = { role: s.role, layers: names, replicas: count('replicas'), shards: count('shards') };
  if (stage.shards > 1) {
    const ls = names.map((n) => layers.find((l) => l.name === n)!);
    if (ls.length !== 1 || ls[0]!.type !== 'dense') throw new Error('shards: only a stage of exactly one dense layer can be split across devices');
    if (stage.shards > ls[0]!.units!) throw new Error(`shards: ${stage.shards} shards for ${ls[0]!.units} units`);
    // A softmax normalises over all units: each shard would normalise over its own slice only.
    if (ls[0]!.activation === 'softmax') throw new Error(`shards: ${ls[0]!.name} ends in softmax, which cannot be split (each shard would normalise over its own units only); split a layer before it`);
  }
  return stage;
}

function expandLayerList(raw: unknown, layers: LayerSpec[], model: string): string[] {
  const all = layers.map((l) => l.name);
  const idx = (n: string): number => {
    const i = all.indexOf(n);
    if (i < 0) throw new Error(`layers: unknown layer "${n}" of ${model}; valid layers: ${all.join(', ')}`);
    return i;
  };
  if (typeof raw === 'string' && raw.includes('..')) {
    const [a, b] = raw.split('..');
    const i = idx(a!.trim());
    const j = idx(b!.trim());
    if (j < i) throw new Error(`layers: "${raw}" runs backwards`);
    return all.slice(i, j + 1);
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('layers: expected a list of layer names or "first..last"');
  return raw.map((n) => all[idx(String(n))]!);
}

/** Stages must cover every layer exactly once, in order. Returns a message, or null when they do. */
export function checkStagesCoverModel(spec: ModelSpec, stages: StageSpec[]): string | null {
  const flat = stages.flatMap((s) => s.layers);
  const all = spec.layers.map((l) => l.name);
  if (flat.length !== all.length || flat.some((n, i) => n !== all[i])) {
    return `the stages must cover the layers of ${spec.name} in order, each once: expected ${all[0]}..${all[all.length - 1]}, got ${flat.join(', ')}`;
  }
  const roles = new Set<string>();
  for (const s of stages) {
    if (roles.has(s.role)) return `role "${s.role}" appears twice`;
    roles.add(s.role);
  }
  return null;
}
