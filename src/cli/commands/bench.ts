// `pifarm bench farm ...`: a topology on emulated Pis as local processes, measured vs predicted.
import { parseFlags, numberFlag, pickFlags, UsageError, type CliCommand } from '../command.js';
import { modelNames } from '../../model/spec.js';
import { chooseRunTopology } from '../../topology/choose.js';
import { deviceOf } from '../../lab/bench-quota.js';
import { runBenchFarm } from '../../lab/bench-farm.js';
import { defaultFrames, formatBench } from '../../lab/bench-core.js';
import { findProfile, PROFILES } from '../../lab/emulate/profiles.js';
import { OS_RESERVED_MB } from '../../topology/cost-model.js';
import { modelsDirOf } from '../model-import.js';

const HELP = `usage: pifarm bench farm (--preset NAME | --topology FILE | --plan --devices N --model M)
                        [--emulate pi3|pi4|pi5] [--gflops N] [--frames N] [--warmup N] [--window N]
                        [--models DIR] [--compare-paper] [--out DIR] [--json]

Quick mode: every node of the topology runs as a local process; with --emulate each process is one
emulated Pi in its own cgroup (CPU quota calibrated against this machine's measured per-core
speed, memory limited to the Pi's RAM less the OS). Streams frames from a sender, sets the
measured IPS against the planner's prediction for the same Pis, and writes
<out>/<run id>/result.json and index.html (out: reports). The network is loopback in quick mode
(not emulated): the prediction leaves the shared medium out too.

  --preset       a preset of roles/*.yaml (alexnet-5, alexnet-6, vgg16-9, vgg16-11)
  --topology     a topology YAML written by pifarm plan
  --plan         plan the topology for --devices N (nodes + sender) of the emulated Pi
  --model        ${modelNames().join(', ')} (with --plan), or a model imported with pifarm model import
                 (--models DIR): planned over its cut points, a topology file of them, or a paper
                 preset mapped onto an imported AlexNet or VGG16 (--preset with --model). Its
                 emulated processes are held to the cost model's time for their stage on the Pi
  --emulate      ${Object.keys(PROFILES).join(', ')}; --gflops overrides the profile's speed, --ram its RAM
                 in MB (a node process may use the RAM less ${OS_RESERVED_MB} MB for the OS)
  --frames       frames to stream (default 4 windows, at least 40 alexnet, 16 vgg16); --warmup
                 (default 20%, at least 1); --window: frames in flight (default node processes + 4)
  --compare-paper  add the paper's figures to the comparison (labelled as the paper's)`;

const FLAGS = {
  preset: { type: 'string' },
  topology: { type: 'string' },
  plan: { type: 'boolean' },
  devices: { type: 'string' },
  model: { type: 'string' },
  emulate: { type: 'string' },
  gflops: { type: 'string' },
  ram: { type: 'string' },
  frames: { type: 'string' },
  warmup: { type: 'string' },
  window: { type: 'string' },
  'compare-paper': { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  models: { type: 'string' },
} as const;


export const command: CliCommand = {
  name: 'bench',
  summary: 'benchmark a topology on emulated Pis (local processes), measured vs predicted IPS, report',
  async run(argv) {
    const { values, positionals } = parseFlags(argv, FLAGS, HELP);
    if (positionals[0] !== 'farm' || positionals.length > 1) throw new UsageError(HELP);
    const gflops = values.gflops === undefined ? undefined : numberFlag(values.gflops, 'gflops', 0, { min: 0.001 });
    if (gflops !== undefined && !values.emulate) throw new UsageError('--gflops overrides an emulated profile: give --emulate too');
    if (values.ram !== undefined && !values.emulate) throw new UsageError('--ram overrides an emulated profile: give --emulate too');
    const base = values.emulate ? findProfile(values.emulate, gflops) : undefined;
    const profile = base && values.ram !== undefined ? { ...base, ramMb: numberFlag(values.ram, 'ram', 0, { min: 400, integer: true }) } : base;

    const devices = values.devices === undefined ? undefined : numberFlag(values.devices, 'devices', NaN, { min: 2, integer: true });
    const modelsDir = modelsDirOf(values.models);
    const { model, name, stages, imported } = chooseRunTopology({
      ...pickFlags(values, 'preset', 'topology', 'model'),
      modelsDir,
      plan: !!values.plan,
      ...(devices !== undefined ? { devices } : {}),
      ...(profile ? { device: deviceOf(profile) } : {}),
    });
    // Enough frames that the pipeline's fill and drain do not dominate the steady window.
    const frames = numberFlag(values.frames, 'frames', defaultFrames(model, stages), { min: 1, integer: true });
    const warmup = numberFlag(values.warmup, 'warmup', Math.max(1, Math.round(frames / 5)), { min: 0, integer: true });
    if (warmup >= frames) throw new UsageError(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
    const window = values.window === undefined ? undefined : numberFlag(values.window, 'window', 1, { min: 1, integer: true });

    const out = await runBenchFarm({
      model,
      name,
      stages,
      ...(imported ? { imported: { modelsDir, pkg: imported } } : {}),
      ...(profile ? { profile } : {}),
      frames,
      warmup,
      ...(window ? { window } : {}),
      reportsDir: values.out ?? 'reports',
      comparePaper: values['compare-paper'] ?? false,
      log: values.json ? () => undefined : (m) => console.error(m),
    });
    if (values.json) {
      console.log(JSON.stringify({ ...out.result, timeline: undefined, report: { json: out.jsonPath, html: out.htmlPath }, emulated: out.emulated, warnings: out.warnings }, null, 2));
      return 0;
    }
    const r = out.result;
    for (const w of out.warnings) console.log(`warning: ${w}`);
    if (out.emulated) {
      const e = out.emulated;
      console.log(`emulated ${profile!.name}: ${profile!.gflops.toFixed(2)} GFLOPS on convs, ${profile!.denseGflops.toFixed(3)} on dense layers, ${profile!.ramMb - OS_RESERVED_MB} MB per device; this machine ${e.machine.gflops.toFixed(1)} / ${e.machine.denseGflops.toFixed(2)} GFLOPS per core`);
      console.log(`CPU quota per process: ${r.stages.map((s, i) => `${s.role} ${(e.quotaCores[i]! * 100).toFixed(2)}%`).join(', ')} of one core; periods throttled per process: ${e.throttled.join(', ')}`);
    }
    console.log(formatBench(r, { comparePaper: values['compare-paper'] ?? false, jsonPath: out.jsonPath, htmlPath: out.htmlPath }));
    return 0;
  },
};
