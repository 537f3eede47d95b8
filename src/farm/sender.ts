// `pifarm run` with the sender on the control machine: frames streamed into the farm's first
// stage, results back on the sender port, then the same report and output check as the demo.
import { createEngine } from '../engine/index.js';
import { loadModelSpec } from '../model/spec.js';
import { loadImage } from '../runtime/frames.js';
import { checkOutputs, checkWithBlock } from '../runtime/reference.js';
import { processName } from '../runtime/process-name.js';
import { graphPath, loadImportedModel, topClasses, type ImportedModel } from '../model/imported.js';
import type { Engine } from '../engine/engine.js';
import { runSender, sampleIdsFor, type SenderReport } from '../runtime/sender.js';
import { openRunInputs, type RunInputFlags } from '../sources/run-inputs.js';
import { LiveServer } from '../live/server.js';
import type { WatchedNode } from '../runtime/live-view.js';
import { SECRET_PATH } from '../provision/layout.js';
import { runRemoteSender } from './remote-sender.js';
import type { HostSession } from './session.js';
import { runResult } from '../report/run-result.js';
import type { CheckedRun } from '../report/types.js';
import type { FarmPlan } from './plan.js';
import { FarmError } from './runner.js';
import { streamElasticFarm, type ElasticFarmOptions, type ElasticFarmStream } from './elastic-run.js';

export interface SenderRunOptions {
  frames: number;
  warmup: number;
  window?: number;
  rate?: number;
  frameSeed?: number;
  image?: string;
  samples?: number;
  /** a frame without a result after this long is dropped (default 30 s; emulated hosts need more) */
  frameTimeoutMs?: number;
  /** a replica silent this long is called down (default 2 s) */
  failTimeoutMs?: number;
  /** --source, --loop, --results (a sender on this machine) */
  inputs?: RunInputFlags;
  /** --serve [ADDR:]PORT: the live view while the run goes */
  serve?: string;
  /** --deadline MS */
  deadlineMs?: number;
  /** --elastic: the live musical chair over SSH (elastic-run.ts) */
  elastic?: ElasticFarmOptions;
  log?: (m: string) => void;
}

/** Where the sender runs: this process, or a farm host (through its session). */
export function senderIsLocal(plan: FarmPlan): boolean {
  const h = plan.farm.sender.host;
  return h === 'local' || !!plan.inv.hosts.find((x) => x.name === h)?.local;
}

type SentReport = Omit<SenderReport, 'samples'> & { samples: Map<number, Float32Array> };

/** Streams the frames from the sender host of the inventory; `remote` is that host's session. */
export async function runFarmSender(plan: FarmPlan, o: SenderRunOptions, remote?: HostSession): Promise<CheckedRun> {
  const { farm, wiring, inv } = plan;
  const log = o.log ?? ((m: string) => console.error(m));
  // --source, else the inventory's farm.source
  if (inv.farm.source && !o.inputs?.source) o = { ...o, inputs: { ...o.inputs, source: inv.farm.source } };
  // an imported model: its package says the input and holds the whole graph for the check
  const pkg = inv.farm.modelsDir ? loadImportedModel(inv.farm.modelsDir, farm.model) : undefined;
  const spec = pkg ? undefined : loadModelSpec(farm.model);
  const input = pkg ? pkg.input.shape : spec!.input;
  const frameSeed = o.frameSeed ?? 1;
  const processes = farm.placements.length;
  const window = o.rate ? undefined : o.window ?? Math.min(32, 2 * processes);
  const common = {
    first: wiring.first,
    lastShards: wiring.lastShards,
    frames: o.frames,
    warmup: o.warmup,
    window,
    rate: o.rate,
    seed: frameSeed,
    sampleIds: sampleIdsFor(o.frames, !!o.inputs?.source && o.inputs.source !== 'random', o.samples ?? 3),
    // the nodes keep running between runs: fresh frame ids for every run (1000 ids per ms of start time)
    idBase: Date.now() * 1000,
    maxMessageBytes: wiring.maxMessageBytes,
    ...(o.frameTimeoutMs !== undefined ? { frameTimeoutMs: o.frameTimeoutMs } : {}),
    ...(o.deadlineMs !== undefined ? { deadlineMs: o.deadlineMs } : {}),
  };
  let sent: SentReport;
  let elastic: ElasticFarmStream | undefined;
  if (senderIsLocal(plan)) {
    const live = o.serve ? new LiveServer(farm.model, farm.topologyName, input, pkg?.labels) : undefined;
    if (live) log(`live view on ${await live.listen(o.serve!)}`);
    let inputs;
    try {
      inputs = openRunInputs({ ...o.inputs, ...(live ? { live } : {}) }, input, pkg?.labels);
    } catch (e) {
      await live?.close();
      throw e;
    }
    inputs.live?.watch(watchedNodes(plan), { maxMessageBytes: wiring.maxMessageBytes, secret: Buffer.from(plan.secret, 'hex') });
    const options = {
      ...common,
      input,
      image: o.image,
      ...(o.failTimeoutMs !== undefined ? { failTimeoutMs: o.failTimeoutMs } : {}),
      secret: Buffer.from(plan.secret, 'hex'),
      ...(inputs.source ? { source: inputs.source } : {}),
      ...(inputs.onResult ? { onResult: inputs.onResult } : {}),
      ...(inputs.live ? { resultInputs: true, onCounts: (c: { offered: number; skipped: number; lost: number }) => inputs.live!.counts(c) } : {}),
      log,
    };
    try {
      if (o.elastic) {
        elastic = await streamElasticFarm(plan, o.elastic, options, inputs.live, log);
        sent = elastic.sent;
      } else sent = await runSender({ ...options, listen: { host: plan.controlAddress, port: farm.sender.port } });
    } finally {
      await inputs.close();
      await live?.close();
    }
  } else {
    if (o.inputs?.results || o.serve || o.inputs?.loop) throw new FarmError('--results, --serve and --loop: with the sender on a Pi, the run reports at its end; use farm.sender: local to follow each frame from this machine');
    if (!remote) throw new FarmError(`${inv.file}: farm.sender is ${farm.sender.host}, which is not among the selected hosts`);
    if (o.image) throw new FarmError('--image: the image must be on the sender host; with a sender on a Pi, send random frames (no --image)');
    if (pkg) throw new FarmError(`${inv.file}: farm.sender: ${farm.model} is an imported model, whose sender runs on this machine for now (farm.sender: local)`);
    const source = o.inputs?.source && o.inputs.source !== 'random' ? { source: o.inputs.source } : {};
    sent = await runRemoteSender(remote, { ...common, ...source, model: farm.model, listen: { host: '0.0.0.0', port: farm.sender.port }, balance: 'round-robin', mergeTimeoutMs: 5000, mergeCapacity: 64, secretFile: SECRET_PATH }, log);
  }
  const threads = inv.farm.threads ?? 1;
  const engine = await createEngine(pkg ? 'onnx' : inv.farm.engine, { threads });
  log(`checking ${sent.samples.size} outputs against the whole ${farm.model} in one process`);
  const image = o.image ? loadImage(o.image, input) : undefined;
  const check = pkg
    ? await checkWithBlock({ block: await wholeGraph(engine, inv.farm.modelsDir!, pkg), inputLength: input.reduce((a, b) => a * b, 1), frameSeed, samples: sent.samples, ...(image ? { image } : {}), ...(sent.sampleInputs ? { inputs: sent.sampleInputs } : {}) })
    : await checkOutputs({ engine, spec: spec!, weightSeed: inv.farm.seed, frameSeed, threads, samples: sent.samples, image, ...(sent.sampleInputs ? { inputs: sent.sampleInputs } : {}) });
  // resident memory is read on the hosts by `pifarm status`, not here: no node stats
  // each process by the inventory host that ran it, in the stage table and the timeline
  const hostNames = elastic ? elastic.hostNames : Object.fromEntries(farm.placements.map((p) => [processName(p, farm.stages[p.stageIndex]!.shards), p.host]));
  const stages = elastic?.stages ?? farm.stages;
  const result = runResult({ kind: 'run', model: farm.model, topology: farm.topologyName, engine: engine.describe(), threads, stages, sent, check, hostNames, ...(pkg ? { bytesPerFrame: importedBytesPerFrame(pkg, farm.stages) } : {}) });
  if (elastic) result.moves = elastic.moves;
  if (pkg) result.top = [...sent.samples].map(([frame, out]) => ({ frame, classes: topClasses(pkg, out) }));
  return result;
}

/** The whole graph of an imported model as one block, for the output check. */
async function wholeGraph(engine: Engine, modelsDir: string, pkg: ImportedModel) {
  return engine.loadGraph!({ graph: graphPath(modelsDir, pkg), input: pkg.input.name, inputShape: pkg.input.dims.slice(1), outputShape: pkg.output.dims.slice(1), preprocess: { ...pkg.preprocess, layout: pkg.input.layout } });
}

/** Cut tensors sent per frame: the input, every stage boundary, the output. */
function importedBytesPerFrame(pkg: ImportedModel, stages: { layers: string[] }[]): number {
  const bytes = (t: string) => pkg.cuts.find((c) => c.tensor === t)?.bytes ?? 0;
  return bytes(stages[0]!.layers[0]!) + stages.reduce((a, s) => a + bytes(s.layers[s.layers.length - 1]!), 0);
}

/** The farm's node processes as the live view polls them: at the address this machine reaches each host at. */
function watchedNodes(plan: FarmPlan): WatchedNode[] {
  const { farm, wiring, inv } = plan;
  return farm.placements.map((p, i) => {
    const listen = wiring.nodes[i]!.listen;
    const host = listen.host === '0.0.0.0' ? inv.hosts.find((h) => h.name === p.host)?.address ?? p.host : listen.host;
    return { name: processName(p, farm.stages[p.stageIndex]!.shards), role: p.role, host: p.host, endpoint: { host, port: listen.port } };
  });
}
