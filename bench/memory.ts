// `npm run bench -- memory [--only alexnet|vgg16] [--set blocks|layers|plans] [--frames N] [--window W] [--threads T] [--limit-mb MIB] [--json FILE]`
// What a node process really peaks at, against the planner's memory model (topology/cost-model.ts).
// Each topology below runs as real node processes (launchLocalFarm, onnx engine), a few frames go
// through, and every node reports its kernel high-water mark (VmHWM: the load's peak included).
// Per block: conv and dense weights, the largest activation pair, measured peak, the model's
// memoryMb and model / measured (must be >= 1 for every block: a plan that "fits" must fit).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLimitGroup, execInGroup, type LimitGroup } from '../src/lab/emulate/cgroup.js';
import { launchLocalFarm } from '../src/lab/local-launch.js';
import type { NodeConfig } from '../src/runtime/config.js';
import { findPreset, loadModelSpec, type StageSpec } from '../src/model/spec.js';
import { stageInfos } from '../src/model/shapes.js';
import { DEFAULT_SEED } from '../src/model/weights.js';
import { runSender } from '../src/runtime/sender.js';
import { DEFAULT_COST_MODEL, MB, memoryParts, stageMemoryMb } from '../src/topology/cost-model.js';
import { planTopology } from '../src/topology/plan.js';

export interface MeasuredBlock {
  model: string;
  /** role, layer range, and "/k" for a shard of k */
  block: string;
  layers: string[];
  shards: number;
  convMb: number;
  denseMb: number;
  largestConvLayerMb: number;
  /** the largest input + output pair of one layer */
  activationMb: number;
  /** a frame as the stage receives it (float; the first stage's uint8 frame becomes float too) and sends it (one shard's slice) */
  inMb: number;
  outMb: number;
  /** max VmHWM over the stage's processes */
  peakMb: number;
  /** max VmHWM once the block is loaded, before any frame: the start-up peak */
  loadPeakMb: number;
  /** after the load and the frames: what the process holds at rest */
  rssMb: number;
  modelMb: number;
}

export interface MeasureOptions {
  frames?: number;
  window?: number;
  threads?: number;
  /** run every node in its own memory cgroup of this many MiB (as bench farm emulates a Pi: RAM less the OS) */
  limitMb?: number;
  log?: (m: string) => void;
}

export class OomError extends Error {}

/** Runs `stages` of `model` as local node processes, streams frames, and returns every stage's memory figures. */
export async function measureTopology(model: string, stages: StageSpec[], o: MeasureOptions = {}): Promise<MeasuredBlock[]> {
  const spec = loadModelSpec(model);
  const infos = stageInfos(spec, stages);
  const groups: LimitGroup[] = [];
  const roles: string[] = [];
  const command = o.limitMb
    ? (cfg: NodeConfig, argv: string[]) => {
        const g = createLimitGroup(`bench-memory-${process.pid}-${groups.length}`, { memoryMb: o.limitMb });
        groups.push(g);
        roles.push(cfg.role);
        return execInGroup(g, argv);
      }
    : undefined;
  const killed = () => groups.flatMap((g, i) => (g.oomKills() > 0 ? [roles[i]!] : []));
  const removeGroups = async () => {
    for (const g of groups) await g.remove().catch(() => {});
  };
  let farm;
  try {
    farm = await launchLocalFarm({ model, stages, engine: 'onnx', threads: o.threads ?? 1, seed: DEFAULT_SEED, readyTimeoutMs: 600_000, ...(command ? { command } : {}) });
  } catch (e) {
    const oom = killed();
    await removeGroups();
    if (oom.length) throw new OomError(`OOM-killed under ${o.limitMb} MiB: ${oom.join(', ')}`);
    throw e;
  }
  try {
    const loaded = await farm.stats();
    const frames = o.frames ?? 24;
    const rep = await runSender({
      input: spec.input as [number, number, number],
      first: farm.first,
      lastShards: farm.lastShards,
      listen: { host: '127.0.0.1', port: farm.senderPort },
      frames,
      warmup: 1,
      window: o.window ?? 8,
      sampleIds: [],
      maxMessageBytes: farm.maxMessageBytes,
      frameTimeoutMs: 60_000,
    });
    // a frame lost on the way does not spoil the memory figures; too many would (nothing ran)
    if (rep.completed < frames / 2) throw new Error(`${model} ${stages.map((s) => s.role).join(' -> ')}: ${rep.completed} of ${frames} frames completed`);
    if (rep.completed < frames) (o.log ?? console.error)(`${model} ${stages.map((s) => s.role).join(' -> ')}: ${rep.completed} of ${frames} frames completed`);
    const stats = await farm.stats();
    const oom = killed();
    if (oom.length) throw new OomError(`OOM-killed under ${o.limitMb} MiB while running: ${oom.join(', ')}`);
    return infos.map((info, i) => {
      const mine = stats.filter((_, k) => farm.nodes[k]!.config.stageIndex === i);
      const parts = memoryParts(info);
      const s = info.stage;
      const range = s.layers.length > 1 ? `${s.layers[0]}..${s.layers[s.layers.length - 1]}` : s.layers[0]!;
      return {
        model,
        block: `${range}${s.shards > 1 ? ` /${s.shards}` : ''}`,
        layers: s.layers,
        shards: s.shards,
        convMb: parts.convMb,
        denseMb: parts.denseMb,
        largestConvLayerMb: parts.largestConvLayerMb,
        activationMb: parts.activationMb,
        inMb: info.inShape.reduce((a, b) => a * b, 4) / MB,
        outMb: info.outShape.reduce((a, b) => a * b, 4) / MB,
        peakMb: Math.max(...mine.map((x) => x.peakRssBytes)) / MB,
        loadPeakMb: Math.max(...loaded.filter((_, k) => farm.nodes[k]!.config.stageIndex === i).map((x) => x.peakRssBytes)) / MB,
        rssMb: Math.max(...mine.map((x) => x.rssBytes)) / MB,
        modelMb: stageMemoryMb(info, DEFAULT_COST_MODEL),
      };
    });
  } finally {
    await farm.stop();
    await removeGroups();
  }
}

const all = (model: string): StageSpec[] => [{ role: 'whole', layers: loadModelSpec(model).layers.map((l) => l.name), replicas: 1, shards: 1 }];
const range = (model: string, from: string, to: string, role = `${from}-${to}`): StageSpec => {
  const names = loadModelSpec(model).layers.map((l) => l.name);
  return { role, layers: names.slice(names.indexOf(from), names.indexOf(to) + 1), replicas: 1, shards: 1 };
};
/** a preset with one replica per stage: memory per process does not depend on replicas */
const preset = (name: string): StageSpec[] => findPreset(name).stages.map((s) => ({ ...s, replicas: 1 }));

/** a pipeline cut at every listed layer (each a stage start): for the per-layer figures of a fit */
const cuts = (model: string, starts: string[]): StageSpec[] => {
  const names = loadModelSpec(model).layers.map((l) => l.name);
  return starts.map((from, i) => range(model, from, i + 1 < starts.length ? names[names.indexOf(starts[i + 1]!) - 1]! : names[names.length - 1]!));
};

/**
 * The topologies measured. "blocks": whole models, conv blocks, mixed blocks, dense layers whole
 * and split (what plans use). "layers": pipelines cut at every conv layer (the fit's finer points).
 * "plans": the planner's VGG16 plans for 3, 9 and 11 Pi 3s, and VGG16 whole (what the plans for 9
 * and 11 were before the memory model was measured) — with --limit-mb 700, as on emulated Pi 3s.
 */
export function memoryRuns(set: 'blocks' | 'layers' | 'plans' = 'blocks'): { model: string; stages: StageSpec[] }[] {
  if (set === 'plans') {
    return [
      ...[3, 9, 11].map((devices) => ({ model: 'vgg16', stages: planTopology({ model: 'vgg16', devices }).stages.map((s) => ({ ...s, replicas: 1 })) })),
      { model: 'vgg16', stages: all('vgg16') },
    ];
  }
  if (set === 'layers') {
    return [
      { model: 'alexnet', stages: cuts('alexnet', ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc1']) },
      { model: 'vgg16', stages: cuts('vgg16', ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3', 'conv4_1', 'conv4_2', 'conv4_3', 'conv5_1', 'conv5_2', 'conv5_3', 'fc1']) },
      { model: 'vgg16', stages: cuts('vgg16', ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1', 'fc1']) },
    ];
  }
  return [
    { model: 'alexnet', stages: all('alexnet') },
    { model: 'alexnet', stages: preset('alexnet-5') },
    { model: 'alexnet', stages: [range('alexnet', 'conv1', 'flatten', 'block1'), range('alexnet', 'fc1', 'fc1', 'fc1'), range('alexnet', 'fc2', 'fc3', 'fc2')] },
    { model: 'alexnet', stages: [range('alexnet', 'conv1', 'conv2'), range('alexnet', 'pool2', 'fc1'), range('alexnet', 'fc2', 'fc3', 'fc2')] },
    { model: 'vgg16', stages: preset('vgg16-9') },
    { model: 'vgg16', stages: [range('vgg16', 'conv1_1', 'flatten', 'block12345'), { ...range('vgg16', 'fc1', 'fc1', 'fc1'), shards: 4 }, range('vgg16', 'fc2', 'fc3', 'fc2')] },
    { model: 'vgg16', stages: [range('vgg16', 'conv1_1', 'conv5_2'), range('vgg16', 'conv5_3', 'fc3')] },
    { model: 'vgg16', stages: [range('vgg16', 'conv1_1', 'flatten', 'block12345'), range('vgg16', 'fc1', 'fc1', 'fc1'), range('vgg16', 'fc2', 'fc3', 'fc2')] },
    { model: 'vgg16', stages: all('vgg16') },
  ];
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' }, set: { type: 'string' }, frames: { type: 'string' }, window: { type: 'string' }, threads: { type: 'string' }, 'limit-mb': { type: 'string' }, json: { type: 'string' },
    },
    strict: true,
  });
  const set = values.set ?? 'blocks';
  if (set !== 'blocks' && set !== 'layers' && set !== 'plans') throw new Error(`--set: expected blocks, layers or plans, got "${set}"`);
  const o: MeasureOptions = { frames: Number(values.frames ?? 24), window: Number(values.window ?? 8), threads: Number(values.threads ?? 1), ...(values['limit-mb'] ? { limitMb: Number(values['limit-mb']) } : {}) };
  const rows: MeasuredBlock[] = [];
  const f = (x: number, d = 0) => x.toFixed(d).padStart(7);
  const limit = o.limitMb ? `, each node in a ${o.limitMb} MiB memory cgroup` : '';
  console.log(`memory of node processes (onnx engine, ${o.threads} thread(s), ${o.frames} frames, window ${o.window}${limit}), MB = 1e6 bytes`);
  console.log(`${'model'.padEnd(8)} ${'block'.padEnd(22)} ${'conv W'.padStart(7)} ${'dense W'.padStart(7)} ${'act'.padStart(7)} ${'in'.padStart(7)} ${'out'.padStart(7)} ${'load'.padStart(7)} ${'peak'.padStart(7)} ${'rest'.padStart(7)} ${'model'.padStart(7)} ${'model/peak'.padStart(10)}`);
  for (const r of memoryRuns(set).filter((x) => !values.only || x.model === values.only)) {
    let blocks: MeasuredBlock[];
    try {
      blocks = await measureTopology(r.model, r.stages, o);
    } catch (e) {
      if (!(e instanceof OomError)) throw e;
      const models = stageInfos(loadModelSpec(r.model), r.stages).map((i) => `${i.stage.role} ${stageMemoryMb(i).toFixed(0)} MB`);
      console.log(`${r.model.padEnd(8)} ${r.stages.map((s) => s.role).join(' -> ')}: ${e.message} (model: ${models.join(', ')})`);
      continue;
    }
    for (const b of blocks) {
      if (rows.some((x) => x.model === b.model && x.block === b.block)) continue;
      rows.push(b);
      console.log(`${b.model.padEnd(8)} ${b.block.padEnd(22)} ${f(b.convMb, 1)} ${f(b.denseMb, 1)} ${f(b.activationMb, 1)} ${f(b.inMb, 1)} ${f(b.outMb, 1)} ${f(b.loadPeakMb)} ${f(b.peakMb)} ${f(b.rssMb)} ${f(b.modelMb)} ${(b.modelMb / b.peakMb).toFixed(2).padStart(10)}${b.modelMb < b.peakMb ? '  UNDER' : ''}`);
    }
  }
  if (rows.length) {
    const worst = rows.reduce((a, b) => (b.modelMb / b.peakMb < a.modelMb / a.peakMb ? b : a));
    console.log(`lowest model/peak: ${(worst.modelMb / worst.peakMb).toFixed(2)} (${worst.model} ${worst.block})`);
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), options: o, rows }, null, 2)}\n`);
}
