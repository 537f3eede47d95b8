// `pifarm demo --elastic`: the local farm under the live musical chair. The controller starts the
// topology on devices dev1..devN (one node process each), the sender streams, and `--lose
// ROLE@T1[-T2]` plays a device losing its power T1 s into the stream (the one running ROLE's
// first process; its processes are SIGKILLed) and coming back at T2. The controller is not told:
// it finds the loss by its probes and the return by the device answering again, and moves.
import { streamElastic as streamWithController, type ElasticStream } from '../elastic/stream.js';
import type { ElasticPolicy } from '../elastic/decide.js';
import type { StageSpec } from '../model/spec.js';
import type { Balance } from '../runtime/config.js';
import type { SenderOptions } from '../runtime/sender.js';
import { LocalElasticDriver } from './elastic-local.js';
import { freePorts } from './local-ports.js';
import type { LiveView } from '../runtime/live-view.js';

export type { ElasticStream } from '../elastic/stream.js';

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
  return streamWithController({ model: o.model, stages: o.stages, driver, listen: { host: '127.0.0.1', port: senderPort! }, log: o.log, ...(o.policy ? { policy: o.policy } : {}), ...(o.live ? { live: o.live } : {}), onStreaming: () => playEvents(o, driver) }, senderOptions);
}

/** The losses and slow-downs of --lose and --throttle, on timers from the stream's start. */
function playEvents(o: ElasticRunOptions, driver: LocalElasticDriver): NodeJS.Timeout[] {
  const timers: NodeJS.Timeout[] = [];
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
  return timers;
}
