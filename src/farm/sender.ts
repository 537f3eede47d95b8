// `pifarm run` with the sender on the control machine: frames streamed into the farm's first
// stage, results back on the sender port, then the same report and output check as the demo.
import { createEngine } from '../engine/index.js';
import { loadModelSpec } from '../model/spec.js';
import { loadImage } from '../runtime/frames.js';
import { checkOutputs } from '../runtime/reference.js';
import { defaultSampleIds, runSender, type SenderReport } from '../runtime/sender.js';
import { SECRET_PATH } from '../provision/layout.js';
import { runRemoteSender } from './remote-sender.js';
import type { HostSession } from './session.js';
import { runResult } from '../report/run-result.js';
import type { CheckedRun } from '../report/types.js';
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
  /** a frame without a result after this long is dropped (default 30 s; emulated hosts need more) */
  frameTimeoutMs?: number;
  /** a replica silent this long is called down (default 5 s, and at least three of its frame times) */
  failTimeoutMs?: number;
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
  const spec = loadModelSpec(farm.model);
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
    sampleIds: defaultSampleIds(o.frames, o.samples ?? 3),
    // the nodes keep running between runs: fresh frame ids for every run (1000 ids per ms of start time)
    idBase: Date.now() * 1000,
    maxMessageBytes: wiring.maxMessageBytes,
    ...(o.frameTimeoutMs !== undefined ? { frameTimeoutMs: o.frameTimeoutMs } : {}),
  };
  let sent: SentReport;
  if (senderIsLocal(plan)) {
    sent = await runSender({
      ...common,
      input: spec.input,
      listen: { host: plan.controlAddress, port: farm.sender.port },
      image: o.image,
      ...(o.failTimeoutMs !== undefined ? { failTimeoutMs: o.failTimeoutMs } : {}),
      secret: Buffer.from(plan.secret, 'hex'),
      log,
    });
  } else {
    if (!remote) throw new FarmError(`${inv.file}: farm.sender is ${farm.sender.host}, which is not among the selected hosts`);
    if (o.image) throw new FarmError('--image: the image must be on the sender host; with a sender on a Pi, send random frames (no --image)');
    sent = await runRemoteSender(remote, { ...common, model: farm.model, listen: { host: '0.0.0.0', port: farm.sender.port }, balance: 'round-robin', mergeTimeoutMs: 5000, mergeCapacity: 64, secretFile: SECRET_PATH }, log);
  }
  const threads = inv.farm.threads ?? 1;
  const engine = await createEngine(inv.farm.engine, { threads });
  log(`checking ${sent.samples.size} outputs against the whole ${farm.model} in one process`);
  const image = o.image ? loadImage(o.image, spec.input) : undefined;
  const check = await checkOutputs({ engine, spec, weightSeed: inv.farm.seed, frameSeed, threads, samples: sent.samples, image });
  // resident memory is read on the hosts by `pifarm status`, not here: no node stats
  return runResult({ kind: 'run', model: farm.model, topology: farm.topologyName, engine: engine.describe(), threads, stages: farm.stages, sent, check });
}
