// `pifarm demo --elastic`: the local farm under the live musical chair. The controller starts the
// topology on devices dev1..devN (one node process each), the sender streams, and `--lose
// ROLE@T1[-T2]` plays a device losing its power T1 s into the stream (the one running ROLE's
// first process; its processes are SIGKILLed) and coming back at T2. The controller is not told:
// it finds the loss by its probes and the return by the device answering again, and moves.
import { ElasticController } from '../elastic/controller.js';
import type { ElasticPolicy } from '../elastic/decide.js';
import type { StageSpec } from '../model/spec.js';
import type { Balance } from '../runtime/config.js';
import type { NodeStats } from '../runtime/protocol.js';
import { Sender, type SenderOptions, type SenderReport } from '../runtime/sender.js';
import type { MoveRecord } from '../report/types.js';
import { LocalElasticDriver } from './elastic-local.js';
import { freePorts } from './local-ports.js';
import type { LiveView } from '../runtime/live-view.js';
import type { Deployment } from '../elastic/driver.js';
import { stagesText } from '../topology/choose.js';

/**
 * A device lost `atS` seconds into the stream, back at `backS` (never, without it); silent: it
 * goes quiet (no FIN, no refusal) instead of losing its power.
 */
export interface LossEvent {
  role: string;
  atS: number;
  backS?: number;
  silent?: boolean;
}

/** The device running `role` slows down to `cores` of one core `atS` seconds into the stream. */
export interface ThrottleEvent {
  role: string;
  atS: number;
  cores: number;
}

/** "block1@3:0.1" -> { role: block1, atS: 3, cores: 0.1 } */
export function parseThrottle(spec: string): ThrottleEvent {
  const m = /^([\w-]+)@(\d+(?:\.\d+)?):(\d*\.?\d+)$/.exec(spec.trim());
  if (!m || !(Number(m[3]) > 0)) throw new Error(`--throttle ${spec}: expected ROLE@SECONDS:CORES (e.g. block1@4:0.1: the device running block1 gets a tenth of a core 4 s into the stream)`);
  return { role: m[1]!, atS: Number(m[2]), cores: Number(m[3]) };
}

export interface ElasticRunOptions {
  model: string;
  stages: StageSpec[];
  engine: 'onnx' | 'tfjs';
  threads: number;
  seed: number;
  balance?: Balance;
  /** devices of the farm (default: one per process of the first topology) */
  devices?: number;
  lose?: LossEvent[];
  throttle?: ThrottleEvent[];
  policy?: Partial<ElasticPolicy>;
  echo?: boolean;
  log: (m: string) => void;
  live?: LiveView;
}

export interface ElasticStream {
  sent: SenderReport;
  /** the last topology's nodes after the run */
  stats: NodeStats[];
  stages: StageSpec[];
  moves: MoveRecord[];
}

/** "block1@3-9" -> { role: block1, atS: 3, backS: 9 }, "block1@3:silent"; errors say what is expected. */
export function parseLoss(spec: string): LossEvent {
  const m = /^([\w-]+)@(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?(:silent)?$/.exec(spec.trim());
  if (!m) throw new Error(`--lose ${spec}: expected ROLE@SECONDS or ROLE@SECONDS-SECONDS, and :silent for a device that goes quiet (e.g. block1@3-9: the device running block1 is lost 3 s into the stream and back at 9 s)`);
  const e: LossEvent = { role: m[1]!, atS: Number(m[2]), ...(m[4] ? { silent: true } : {}) };
  if (m[3] !== undefined) {
    e.backS = Number(m[3]);
    if (e.backS <= e.atS) throw new Error(`--lose ${spec}: the device must come back after it was lost`);
  }
  return e;
}

export async function streamElastic(o: ElasticRunOptions, senderOptions: Omit<SenderOptions, 'first' | 'listen'>): Promise<ElasticStream> {
  const [senderPort] = await freePorts(1);
  const processes = o.stages.reduce((a, s) => a + s.replicas * s.shards, 0);
  const driver = new LocalElasticDriver({ model: o.model, engine: o.engine, threads: o.threads, seed: o.seed, balance: o.balance, senderPort: senderPort!, devices: o.devices ?? processes, echo: o.echo });
  for (const [flag, events] of [['--lose', o.lose], ['--throttle', o.throttle]] as const) {
    for (const e of events ?? []) if (!o.stages.some((s) => s.role === e.role)) throw new Error(`${flag} ${e.role}@${e.atS}: the topology has no role ${e.role} (it has ${o.stages.map((s) => s.role).join(', ')})`);
  }
  // the live view follows the topology that runs
  const onDeploy = o.live
    ? (d: Deployment, m?: MoveRecord) =>
        o.live!.watch(d.nodes.map((n) => ({ name: n.name, role: n.role, host: n.device, endpoint: n.endpoint })), {
          maxMessageBytes: driver.maxMessageBytes,
          topology: stagesText(d.stages),
          ...(m ? { move: `at ${(m.atMs / 1000).toFixed(1)} s, ${m.why}: ${m.from} => ${m.to} (predicted ${m.predictedBefore.toFixed(2)} -> ${m.predictedAfter.toFixed(2)} IPS)` } : {}),
        })
    : undefined;
  const ctl = new ElasticController({ model: o.model, driver, log: o.log, ...(o.policy ? { policy: o.policy } : {}), ...(onDeploy ? { onDeploy } : {}) });
  await ctl.start(o.stages);
  const timers: NodeJS.Timeout[] = [];
  const sender = new Sender({ ...senderOptions, first: ctl.deployment.first, listen: { host: '127.0.0.1', port: senderPort! }, keepInputs: true, log: o.log });
  for (const e of o.lose ?? []) {
    let device: string | undefined;
    timers.push(setTimeout(() => {
      device = driver.deviceOf(e.role);
      if (!device) return o.log(`lose ${e.role}: no device runs ${e.role} now`);
      o.log(`${device} (running ${e.role}) ${e.silent ? 'goes silent' : 'loses its power'}`);
      if (e.silent) driver.silence(device);
      else driver.lose(device);
    }, e.atS * 1000));
    if (e.backS !== undefined) {
      timers.push(setTimeout(() => {
        if (!device) return;
        o.log(`${device} is back`);
        driver.back(device);
      }, e.backS * 1000));
    }
  }
  for (const e of o.throttle ?? []) {
    timers.push(setTimeout(() => {
      const device = driver.deviceOf(e.role);
      if (!device) return o.log(`throttle ${e.role}: no device runs ${e.role} now`);
      o.log(`${device} (running ${e.role}) slows down to ${e.cores} of a core`);
      try {
        driver.throttle(device, e.cores);
      } catch (err) {
        o.log(`throttle ${device}: ${(err as Error).message}`);
      }
    }, e.atS * 1000));
  }
  try {
    const running = sender.run();
    ctl.attach(sender);
    const sent = await running;
    const stats = await ctl.deployment.stats().catch(() => []);
    return { sent, stats, stages: ctl.deployment.stages, moves: ctl.moves };
  } finally {
    for (const t of timers) clearTimeout(t);
    await ctl.stop();
  }
}
