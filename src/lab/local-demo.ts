// `pifarm demo`: a topology (a preset or a planner's file) as local processes, frames streamed
// through it, the report, and the output check against the whole model in one process.
import { createEngine } from '../engine/index.js';
import { loadModelSpec, processCount, type StageSpec } from '../model/spec.js';
import { chooseRunTopology } from '../topology/choose.js';
import { DEFAULT_SEED } from '../model/weights.js';
import type { Balance } from '../runtime/config.js';
import { loadImage } from '../runtime/frames.js';
import { checkOutputs } from '../runtime/reference.js';
import { runSender, sampleIdsFor, type SenderReport } from '../runtime/sender.js';
import { runResult } from '../report/run-result.js';
import type { CheckedRun } from '../report/types.js';
import { launchLocalFarm } from './local-launch.js';
import { openRunInputs, type RunInputFlags } from '../sources/run-inputs.js';
import { topK } from '../model/imported.js';
import type { LiveView } from '../runtime/live-view.js';
import type { NodeConfig } from '../runtime/config.js';
import { processName } from '../runtime/process-name.js';
import { streamElastic, type LossEvent, type ThrottleEvent } from './elastic-demo.js';
import type { ElasticPolicy } from '../elastic/decide.js';
import type { SenderOptions } from '../runtime/sender-options.js';
import type { NodeStats } from '../runtime/protocol.js';
import type { MoveRecord } from '../report/types.js';

/** Frames for a run that ends well within a minute on 2 cores. */
export const DEFAULT_FRAMES: Record<string, number> = { alexnet: 100, vgg16: 40 };

export interface DemoOptions {
  model: string;
  /** preset name, or the name of a topology */
  name: string;
  stages: StageSpec[];
  engine: 'onnx' | 'tfjs';
  threads?: number;
  frames: number;
  warmup: number;
  window?: number;
  rate?: number;
  seed?: number;
  frameSeed?: number;
  image?: string;
  balance?: Balance;
  samples?: number;
  echo?: boolean;
  log?: (m: string) => void;
  /** keep every completed frame's trace (for the HTML report's timeline) */
  keepTimeline?: boolean;
  /** --source, --loop, --results */
  inputs?: RunInputFlags;
  deadlineMs?: number;
  /** the live musical chair: re-plan and move when a device is lost or joins (elastic-demo.ts) */
  elastic?: { lose?: LossEvent[]; throttle?: ThrottleEvent[]; devices?: number; policy?: Partial<ElasticPolicy> };
}


/** The stages of a preset, with its model; a wrong name lists the valid ones. */
export function presetStages(name: string): { model: string; stages: StageSpec[] } {
  const t = chooseRunTopology({ preset: name });
  return { model: t.model, stages: t.stages };
}

export async function runDemo(o: DemoOptions): Promise<CheckedRun> {
  const log = o.log ?? ((m: string) => console.error(m));
  const spec = loadModelSpec(o.model);
  const seed = o.seed ?? DEFAULT_SEED;
  const frameSeed = o.frameSeed ?? 1;
  const threads = o.threads ?? 1;
  const processes = processCount(o.stages);
  const image = o.image ? loadImage(o.image, spec.input) : undefined;
  const inputs = openRunInputs(o.inputs ?? {}, spec.input);
  const window = o.rate ? undefined : o.window ?? Math.min(32, 2 * processes);
  const senderOptions: Omit<SenderOptions, 'first' | 'listen'> = {
    input: spec.input,
    frames: o.frames,
    warmup: o.warmup,
    window,
    rate: o.rate,
    seed: frameSeed,
    image: o.image,
    balance: o.balance,
    // across live moves, more samples: every topology's outputs are checked
    sampleIds: sampleIdsFor(o.frames, !!inputs.source, o.samples ?? (o.elastic ? 8 : 3)),
    keepTimeline: o.keepTimeline,
    ...(inputs.source ? { source: inputs.source } : {}),
    ...(inputs.onResult ? { onResult: inputs.onResult } : {}),
    ...(o.deadlineMs !== undefined ? { deadlineMs: o.deadlineMs } : {}),
    ...(inputs.live ? { resultInputs: true, onCounts: (c: { offered: number; skipped: number; lost: number }) => inputs.live!.counts(c) } : {}),
    log,
  };
  log(`starting ${processes} node processes of ${o.name} (${o.engine}, ${threads} thread(s) each)${o.elastic ? ', elastic: re-planned live when a device is lost or joins' : ''}`);
  const streamed = await (o.elastic
    ? streamElastic({ model: o.model, stages: o.stages, engine: o.engine, threads, seed, balance: o.balance, echo: o.echo, log, ...o.elastic, ...(inputs.live ? { live: inputs.live } : {}) }, senderOptions)
    : streamLocal(o, threads, seed, senderOptions, inputs.live)
  ).finally(() => inputs.close());
  const { sent, stats, stages, moves } = streamed;

  const engine = await createEngine(o.engine, { threads });
  log(`checking ${sent.samples.size} outputs against the whole ${o.model} in one process`);
  const check = await checkOutputs({ engine, spec, weightSeed: seed, frameSeed, threads, samples: sent.samples, image, ...(sent.sampleInputs ? { inputs: sent.sampleInputs } : {}) });

  const result = runResult({ kind: 'demo', model: o.model, topology: o.name, engine: engine.describe(), threads, stages, sent, check, nodes: { after: stats } });
  if (moves) result.moves = moves;
  // the built-in models' weights are random: their classes are indices, shown for the first frames
  if (inputs.source) result.top = [...sent.samples].slice(0, 5).map(([frame, out]) => ({ frame, classes: topK(out) }));
  return result;
}

/** The fixed local farm: launched, streamed through, its nodes' stats read, stopped. */
async function streamLocal(o: DemoOptions, threads: number, seed: number, senderOptions: Omit<SenderOptions, 'first' | 'listen'>, live: LiveView | undefined): Promise<{ sent: SenderReport; stats: NodeStats[]; stages: StageSpec[]; moves?: MoveRecord[] }> {
  const farm = await launchLocalFarm({ model: o.model, stages: o.stages, engine: o.engine, threads, seed, balance: o.balance, echo: o.echo });
  watchLocal(live, farm.nodes.map((n) => n.config), farm.maxMessageBytes);
  try {
    const f = senderOptions;
    log(o, `streaming ${f.source ? `up to ${o.frames} frames from ${f.source.describe}` : `${o.frames} frames`} (${o.warmup} warm-up), ${o.rate ? `${o.rate} frames/s` : `${f.window} in flight`}`);
    const sent = await runSender({ ...senderOptions, first: farm.first, lastShards: farm.lastShards, listen: { host: '127.0.0.1', port: farm.senderPort }, maxMessageBytes: farm.maxMessageBytes });
    return { sent, stats: await farm.stats(), stages: o.stages };
  } catch (e) {
    const tails = farm.nodes.map((n) => n.output.slice(-5).join('\n')).filter(Boolean).join('\n');
    throw new Error(`${(e as Error).message}${tails ? `\nnode output:\n${tails}` : ''}`);
  } finally {
    await farm.stop();
  }
}

function log(o: DemoOptions, m: string): void {
  (o.log ?? ((x: string) => console.error(x)))(m);
}

/** The live view polls the local node processes. */
export function watchLocal(live: LiveView | undefined, configs: NodeConfig[], maxMessageBytes: number): void {
  live?.watch(configs.map((c) => ({ name: processName({ role: c.role, replica: c.replica, shard: c.shard.index }, c.shard.count), role: c.role, host: 'local', endpoint: c.listen })), { maxMessageBytes });
}
