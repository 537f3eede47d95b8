// `pifarm demo`: a preset (or a planner's topology file) as local processes on this machine, frames
// streamed through it, the report, and the output check against the whole model in one process.
import { parseFlags, numberFlag, pickFlags, UsageError, type CliCommand } from '../command.js';
import { findPreset, loadModelSpec, modelNames } from '../../model/spec.js';
import { DEFAULT_FRAMES, runDemo } from '../../lab/local-demo.js';
import { chooseRunTopology, DEFAULT_PRESET } from '../../topology/choose.js';
import { formatRun } from '../format-run.js';
import { defaultWarmup, inputFlags, SOURCE_HELP } from '../sender-flags.js';
import { SERVE_HELP, startLive } from '../live-flag.js';
import { defaultFramesFor } from '../../sources/open.js';
import { modelsDirOf } from '../model-import.js';
import { loadImportedModel } from '../../model/imported.js';
import { runImportedDemo } from '../../lab/imported-demo.js';
import { presetOnImported } from '../../topology/imported-preset.js';
import { loadTopologyFile, type TopologyFile } from '../../topology/file.js';
import { writeRunReport } from '../../report/write.js';
import { parseLoss, parseThrottle, type LossEvent, type ThrottleEvent } from '../../lab/elastic-demo.js';

const HELP = `usage: pifarm demo [--model alexnet|vgg16] [--preset NAME | --topology FILE] [--frames N]
                   [--warmup N] [--window N | --rate FPS] [--engine onnx|tfjs] [--threads N]
                   [--balance round-robin|least-loaded] [--image FILE.ppm|FILE.rgb] [--json] [--verbose]
                   [--report DIR]

Runs every node of a topology as a local process on 127.0.0.1, streams frames through it from a
sender in this process, prints IPS, latency and per-stage figures, and checks a sample of the
distributed outputs against the whole model run in one process (exit code 1 when the largest
absolute difference is above 1e-4).

  --model      ${modelNames().join(', ')} (default alexnet)
  --preset     default: ${Object.entries(DEFAULT_PRESET).map(([m, p]) => `${p} for ${m}`).join(', ')}
  --topology   a topology YAML written by pifarm plan (instead of a preset)
  --frames     frames to stream (default ${Object.entries(DEFAULT_FRAMES).map(([m, n]) => `${n} ${m}`).join(', ')})
  --warmup     first frames left out of IPS and latency (default 10% of frames, at least 1)
  --window     closed loop: frames in flight (default 2 per node process, at most 32)
  --rate       open loop: frames per second instead of a window
  --engine     onnx (default) or tfjs
  --threads    engine threads per node process (default 1: the processes share the cores)
  --image      send this 224x224 RGB image (binary PPM or raw bytes) as every frame
  --verbose    print every node's output as it comes
  --report     write DIR/<run id>/result.json and a self-contained HTML report (index.html)
  --elastic    the live musical chair: when a device is lost or joins, plan again for the devices
               there are and move to the new topology while frames keep flowing (devices dev1..devN,
               one node process each; a join or a device that slows down moves only for a
               predicted gain of 15% or more)
  --lose ROLE@T1[-T2][:silent]  with --elastic: the device running ROLE loses its power T1 s into
               the stream (its processes are killed) and is back at T2 s; :silent, it goes quiet
               instead (its processes stopped: no FIN, as a cut link); several: separate by commas
  --throttle ROLE@T:CORES  with --elastic: the device running ROLE slows down to CORES of one core
               T s into the stream (a CPU quota; needs root and a cgroup cpu controller)
  --devices N  with --elastic: devices of the farm (default: one per process of the topology)
${SOURCE_HELP}
${SERVE_HELP}

An imported model (pifarm model import) runs the same way, cut at its cut points:
  --model NAME         the imported model (under --models, default <state dir>/models)
  --stages N           N stages of about equal MACs (default 3), or
  --cuts I,J,...       the cut indexes (pifarm model show NAME) where stages begin
  --replicas R,S,...   replicas per stage (default 1 each)
  --shards S,T,...     shards per stage: a stage of one dense layer (a Gemm, or MatMul + Add) split by output units
  --preset P           the paper's preset on an imported AlexNet or VGG16 (its layers matched: the same
                       convolutions, max-pools and dense layers), e.g. --preset vgg16-11
  --topology FILE      a topology of its cut points (pifarm plan --model NAME -o FILE writes one)`;

export const command: CliCommand = {
  name: 'demo',
  summary: 'run a preset as local processes, stream frames, report IPS/latency and check outputs',
  async run(argv) {
    const { values } = parseFlags(
      argv,
      {
        model: { type: 'string' },
        preset: { type: 'string' },
        topology: { type: 'string' },
        frames: { type: 'string' },
        warmup: { type: 'string' },
        window: { type: 'string' },
        rate: { type: 'string' },
        engine: { type: 'string' },
        threads: { type: 'string' },
        balance: { type: 'string' },
        image: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        report: { type: 'string' },
        models: { type: 'string' },
        stages: { type: 'string' },
        cuts: { type: 'string' },
        replicas: { type: 'string' },
        shards: { type: 'string' },
        source: { type: 'string' },
        loop: { type: 'boolean' },
        results: { type: 'string' },
        serve: { type: 'string' },
        deadline: { type: 'string' },
        elastic: { type: 'boolean' },
        lose: { type: 'string' },
        throttle: { type: 'string' },
        devices: { type: 'string' },
      },
      HELP,
      false,
    );
    // a topology file of an imported model's cut points runs as that model's demo
    const topology = values.topology ? loadTopologyFile(values.topology, modelsDirOf(values.models)) : undefined;
    if ((values.model && !modelNames().includes(values.model)) || (topology && !modelNames().includes(topology.model))) return importedDemo(values, topology);
    if (values.preset && values.topology) throw new UsageError('give --preset or --topology, not both');
    const { model, name, stages } = chooseRunTopology({ ...pickFlags(values, 'preset', 'topology', 'model'), defaultPreset: true });
    const engine = values.engine ?? 'onnx';
    if (engine !== 'onnx' && engine !== 'tfjs') throw new UsageError(`--engine: unknown engine "${engine}"; valid engines: onnx, tfjs`);
    const balance = values.balance ?? 'round-robin';
    if (balance !== 'round-robin' && balance !== 'least-loaded') throw new UsageError(`--balance: expected round-robin or least-loaded, got "${balance}"`);
    const inputs = inputFlags(values);
    if (values.image && values.source) throw new UsageError('give --image or --source, not both');
    const frames = numberFlag(values.frames, 'frames', values.source && values.source !== 'random' ? defaultFramesFor(values.source) : DEFAULT_FRAMES[model] ?? 20, { min: 1, integer: true });
    const warmup = numberFlag(values.warmup, 'warmup', defaultWarmup(frames, values.source), { min: 0, integer: true });
    if (warmup >= frames) throw new UsageError(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
    const elastic = elasticFlags(values);
    const live = await startLive(values.serve, model, name, loadModelSpec(model).input);
    const report = await runDemo({
      model,
      name,
      stages,
      engine,
      threads: numberFlag(values.threads, 'threads', 1, { min: 1, integer: true }),
      frames,
      warmup,
      window: values.window ? numberFlag(values.window, 'window', 8, { min: 1, integer: true }) : undefined,
      rate: values.rate ? numberFlag(values.rate, 'rate', 10, { min: 0.001 }) : undefined,
      seed: values.seed ? numberFlag(values.seed, 'seed', 2018, { min: 0, integer: true }) : undefined,
      image: values.image,
      balance,
      echo: values.verbose,
      log: values.json ? () => {} : (m) => console.error(`pifarm: ${m}`),
      keepTimeline: values.report !== undefined,
      ...(inputs || live ? { inputs: { ...inputs, ...(live ? { live } : {}) } } : {}),
      ...(values.deadline ? { deadlineMs: numberFlag(values.deadline, 'deadline', 1000, { min: 1 }) } : {}),
      ...(elastic ? { elastic } : {}),
    }).finally(() => live?.close());
    const written = values.report !== undefined ? writeRunReport(report, values.report) : undefined;
    if (values.json) console.log(JSON.stringify({ ...report, timeline: undefined, ...(written ? { report: written } : {}) }, null, 2));
    else console.log(formatRun(report, 'this machine') + (written ? `\nreport: ${written.htmlPath}\nresult: ${written.jsonPath}` : ''));
    // a source that stopped early ended the run with its figures so far: not a success
    return report.check.ok && report.completed > 0 && !report.sender.source?.error ? 0 : 1;
  },
};

/** --elastic [--lose ROLE@T1[-T2] ...] [--devices N] */
function elasticFlags(values: { elastic?: boolean; lose?: string; throttle?: string; devices?: string }): { lose: LossEvent[]; throttle: ThrottleEvent[]; devices?: number } | undefined {
  if (!values.elastic) {
    if (values.lose || values.throttle || values.devices) throw new UsageError('--lose, --throttle and --devices go with --elastic');
    return undefined;
  }
  const each = <T>(v: string | undefined, parse: (x: string) => T): T[] =>
    (v ? v.split(',') : []).map((x) => {
      try {
        return parse(x);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    });
  return { lose: each(values.lose, parseLoss), throttle: each(values.throttle, parseThrottle), ...(values.devices ? { devices: numberFlag(values.devices, 'devices', 0, { min: 1, integer: true }) } : {}) };
}

const list = (v: string | undefined, flag: string): number[] | undefined =>
  v === undefined ? undefined : v.split(',').map((x) => numberFlag(x.trim(), flag, 0, { min: 1, integer: true }));

/** demo --model NAME of an imported model: its stages at cut points as local processes. */
async function importedDemo(values: Record<string, string | boolean | undefined>, topology?: TopologyFile): Promise<number> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const modelsDir = modelsDirOf(str('models'));
  if (topology && str('model') && topology.model !== str('model')) throw new UsageError(`--topology ${str('topology')} is for ${topology.model}, not ${str('model')}`);
  const model = loadImportedModel(modelsDir, topology?.model ?? str('model')!);
  const inputs = inputFlags({ ...pickFlags(values, 'source', 'results'), loop: !!values.loop });
  const live = await startLive(str('serve'), model.name, `${model.name} at cut points`, model.input.shape, model.labels);
  const frames = numberFlag(str('frames'), 'frames', str('source') && str('source') !== 'random' ? defaultFramesFor(str('source')!) : 20, { min: 1, integer: true });
  const warmup = numberFlag(str('warmup'), 'warmup', defaultWarmup(frames, str('source')), { min: 0, integer: true });
  if (warmup >= frames) throw new UsageError(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
  let cuts = list(str('cuts'), 'cuts');
  let replicas = list(str('replicas'), 'replicas');
  let shards = list(str('shards'), 'shards');
  // --preset P: the paper's topology on an imported AlexNet or VGG16, matched by its layers; --topology FILE: a plan's
  if (str('preset') && topology) throw new UsageError('give --preset or --topology, not both');
  if (str('preset') || topology) {
    if (cuts || replicas || shards || str('stages')) throw new UsageError(`--${topology ? 'topology' : 'preset'} gives the stages, replicas and shards: leave out --cuts, --stages, --replicas and --shards`);
    const stages = topology ? topology.stages : presetOnImported(model, findPreset(str('preset')!));
    cuts = stages.slice(1).map((st) => model.cuts.findIndex((c) => c.tensor === st.layers[0]));
    replicas = stages.map((st) => st.replicas);
    shards = stages.map((st) => st.shards);
  }
  const r = await runImportedDemo({
    modelsDir,
    model,
    ...(cuts ? { cuts } : { stages: numberFlag(str('stages'), 'stages', 3, { min: 1, integer: true }) }),
    ...(replicas ? { replicas } : {}),
    ...(shards ? { shards } : {}),
    frames,
    warmup,
    threads: numberFlag(str('threads'), 'threads', 1, { min: 1, integer: true }),
    log: values.json ? () => {} : (m) => console.error(`pifarm: ${m}`),
    ...(inputs || live ? { inputs: { ...inputs, ...(live ? { live } : {}) } } : {}),
  }).finally(() => live?.close());
  if (values.json) console.log(JSON.stringify({ ...r, timeline: undefined }, null, 2));
  else console.log(formatRun(r, 'this machine'));
  return r.check.ok && r.completed > 0 && !r.sender.source?.error ? 0 : 1;
}
