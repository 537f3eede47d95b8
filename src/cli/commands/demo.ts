// `pifarm demo`: a preset (or a planner's topology file) as local processes on this machine, frames
// streamed through it, the report, and the output check against the whole model in one process.
import { parseFlags, numberFlag, UsageError, type CliCommand } from '../command.js';
import { table } from '../table.js';
import { modelNames, loadModelSpec } from '../../model/spec.js';
import { loadTopologyFile } from '../../topology/file.js';
import { DEFAULT_FRAMES, DEFAULT_PRESET, presetStages, runDemo, type DemoReport } from '../../farm/local-demo.js';
import { demoRunResult } from '../../farm/run-result.js';
import { writeRunReport } from '../../report/write.js';

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
  --report     write DIR/<run id>/result.json and a self-contained HTML report (index.html)`;

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
      },
      HELP,
      false,
    );
    if (values.preset && values.topology) throw new UsageError('give --preset or --topology, not both');
    let model: string;
    let name: string;
    let stages;
    if (values.topology) {
      const t = loadTopologyFile(values.topology);
      ({ model, name, stages } = t);
    } else {
      if (values.model) loadModelSpec(values.model); // unknown names fail with the valid ones
      const preset = values.preset ?? DEFAULT_PRESET[values.model ?? 'alexnet'];
      if (!preset) throw new UsageError(`no default preset for model "${values.model}"; give --preset`);
      ({ model, stages } = presetStages(preset));
      if (values.model && values.model !== model) throw new UsageError(`preset ${preset} is a ${model} preset, not ${values.model}`);
      name = preset;
    }
    if (values.model && values.model !== model) throw new UsageError(`the topology is for ${model}, not ${values.model}`);
    const engine = values.engine ?? 'onnx';
    if (engine !== 'onnx' && engine !== 'tfjs') throw new UsageError(`--engine: unknown engine "${engine}"; valid engines: onnx, tfjs`);
    const balance = values.balance ?? 'round-robin';
    if (balance !== 'round-robin' && balance !== 'least-loaded') throw new UsageError(`--balance: expected round-robin or least-loaded, got "${balance}"`);
    const frames = numberFlag(values.frames, 'frames', DEFAULT_FRAMES[model] ?? 20, { min: 1, integer: true });
    const warmup = numberFlag(values.warmup, 'warmup', Math.max(1, Math.round(frames / 10)), { min: 0, integer: true });
    if (warmup >= frames) throw new UsageError(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
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
    });
    const written = values.report !== undefined ? writeRunReport(demoRunResult(report, stages, 'demo'), values.report) : undefined;
    if (values.json) console.log(JSON.stringify({ ...report, timeline: undefined, ...(written ? { report: written } : {}) }, null, 2));
    else console.log(formatDemo(report) + (written ? `\nreport: ${written.htmlPath}\nresult: ${written.jsonPath}` : ''));
    return report.check.ok && report.completed > 0 ? 0 : 1;
  },
};

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** What was dropped and why: the sender's view (per frame), then each stage's counters (per hop). */
function dropLines(r: DemoReport): string[] {
  const out: string[] = [];
  const fo = r.sender.failover;
  if (fo?.downs || r.sender.duplicates || r.sender.late) {
    out.push(`failover: ${fo?.downs ?? 0} replica loss(es), ${fo?.resent ?? 0} frame(s) re-sent to survivors; duplicates ${r.sender.duplicates}, late results ${r.sender.late} (counted once)`);
  }
  const why = r.stages
    .map((s) => {
      const d = s.drops;
      if (!d) return '';
      const parts = [[d.refused, 'refused (bad tensor)'], [d.queueFull, 'input queue full'], [d.missingShard, 'missing shard'], [d.notSent, 'next stage unreachable or send buffer full']] as const;
      const said = parts.filter(([n]) => n > 0).map(([n, t]) => `${n} ${t}`);
      return said.length ? `${s.role}: ${said.join(', ')}` : '';
    })
    .filter(Boolean);
  if (why.length) out.push(`dropped in the nodes: ${why.join('; ')}`);
  return out;
}

export function formatDemo(r: DemoReport): string {
  const lines = [
    `${r.preset} (${r.model}) on this machine: ${r.processes} node processes, ${r.engine}, ${r.threadsPerProcess} thread(s) each`,
    `frames ${r.frames} (warm-up ${r.warmup}, ${r.window ? `${r.window} in flight` : 'open loop'}): completed ${r.completed}, dropped ${r.dropped}`,
    `IPS ${f(r.ips, 2)}   latency p50 ${f(r.latencyMs.p50)} ms  p95 ${f(r.latencyMs.p95)} ms  p99 ${f(r.latencyMs.p99)} ms`,
    ...dropLines(r),
    '',
    table(
      ['stage', 'layers', 'replicas', 'shards', 'service ms', 'utilisation', 'rss MB', 'load peak MB'],
      r.stages.map((s) => [s.role, s.layers, String(s.replicas), String(s.shards), f(s.serviceMs, 2), `${f(s.utilization * 100, 0)} %`, f(s.rssMb, 0), f(s.peakRssMb ?? NaN, 0)]),
    ),
    '',
    `output check: ${r.check.compared} frames against the whole model in one process, max |diff| ${r.check.maxAbsDiff.toExponential(2)} ` +
      `(tolerance ${r.check.tolerance}): ${r.check.ok ? 'OK' : 'FAILED'}`,
  ];
  return lines.join('\n');
}
