// `pifarm run` with the sender on the control machine: frames streamed into the farm's first
// stage, results back on the sender port, then the same report and output check as the demo.
import { createEngine } from '../engine/index.js';
import { loadModelSpec } from '../model/spec.js';
import { loadImage } from '../runtime/frames.js';
import { checkOutputs } from '../runtime/reference.js';
import { defaultSampleIds, runSender } from '../runtime/sender.js';
import type { DemoReport, StageFigures } from './local-demo.js';
import type { FarmPlan } from './plan.js';
import { FarmError } from './runner.js';

export interface SenderRunOptions {
  frames: number;
  warmup: number;
  window?: number;
  rate?: number;
  frameSeed?: number;
  image?: string;
  samples?: number;
  log?: (m: string) => void;
}

export async function runLocalSender(plan: FarmPlan, o: SenderRunOptions): Promise<DemoReport> {
  const { farm, wiring, inv } = plan;
  if (farm.sender.host !== 'local' && !inv.hosts.find((h) => h.name === farm.sender.host)?.local) {
    throw new FarmError(`${inv.file}: farm.sender is "${farm.sender.host}": running the sender on a Pi is not supported yet; use sender: local`);
  }
  const log = o.log ?? ((m: string) => console.error(m));
  const spec = loadModelSpec(farm.model);
  const frameSeed = o.frameSeed ?? 1;
  const processes = farm.placements.length;
  const window = o.rate ? undefined : o.window ?? Math.min(32, 2 * processes);
  const sent = await runSender({
    input: spec.input,
    first: wiring.first,
    lastShards: wiring.lastShards,
    listen: { host: plan.controlAddress, port: farm.sender.port },
    frames: o.frames,
    warmup: o.warmup,
    window,
    rate: o.rate,
    seed: frameSeed,
    image: o.image,
    sampleIds: defaultSampleIds(o.frames, o.samples ?? 3),
    // the nodes keep running between runs: fresh frame ids for every run (1000 ids per ms of start time)
    idBase: Date.now() * 1000,
    maxMessageBytes: wiring.maxMessageBytes,
    secret: Buffer.from(plan.secret, 'hex'),
    log,
  });
  const threads = inv.farm.threads ?? 1;
  const engine = await createEngine(inv.farm.engine, { threads });
  log(`checking ${sent.samples.size} outputs against the whole ${farm.model} in one process`);
  const image = o.image ? loadImage(o.image, spec.input) : undefined;
  const check = await checkOutputs({ engine, spec, weightSeed: inv.farm.seed, frameSeed, threads, samples: sent.samples, image });
  const stages: StageFigures[] = farm.stages.map((s) => {
    const procs = sent.processes.filter((p) => p.role === s.role);
    const frames = procs.reduce((a, p) => a + p.frames, 0);
    return {
      role: s.role,
      replicas: s.replicas,
      shards: s.shards,
      layers: s.layers.length > 1 ? `${s.layers[0]}..${s.layers[s.layers.length - 1]}` : s.layers[0]!,
      serviceMs: frames ? procs.reduce((a, p) => a + p.serviceMs.mean * p.frames, 0) / frames : NaN,
      utilization: procs.length ? procs.reduce((a, p) => a + p.utilization, 0) / (s.replicas * s.shards) : 0,
      // resident memory is read on the hosts by `pifarm status`, not here
      rssMb: NaN,
    };
  });
  const { samples: _samples, ...senderFigures } = sent;
  void _samples;
  return {
    model: farm.model,
    preset: farm.topologyName,
    engine: engine.describe(),
    threadsPerProcess: threads,
    processes,
    frames: o.frames,
    warmup: sent.warmup,
    window: sent.window,
    completed: sent.completed,
    dropped: sent.dropped,
    ips: sent.ips,
    latencyMs: { p50: sent.latencyMs.p50, p95: sent.latencyMs.p95, p99: sent.latencyMs.p99, mean: sent.latencyMs.mean },
    stages,
    check,
    sender: senderFigures,
  };
}
