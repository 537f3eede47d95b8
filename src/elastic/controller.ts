// The live musical chair: watches the nodes of the topology that runs, and when a device is lost
// or one joins, plans again for the devices there are and moves to the new topology while frames
// keep flowing. The new processes are started and loaded before any frame goes to them (the
// sender opens a new epoch on their first stage, sender-epochs.ts); the old topology drains: a
// planned move lets its frames finish there, a loss re-sends them at once into the new one. Then
// the old processes stop. Every move is logged and recorded.
import { stagesText } from '../topology/choose.js';
import type { DeviceProfile } from '../topology/cost-model.js';
import { Peer } from '../runtime/peer.js';
import type { Sender } from '../runtime/sender.js';
import type { MoveRecord } from '../report/types.js';
import { processCount, type StageSpec } from '../model/spec.js';
import { decide, DEFAULT_POLICY, planFor, type DeviceView, type ElasticPolicy } from './decide.js';
import { canFinish, type Deployment, type ElasticDriver } from './driver.js';
import { SpeedMeter } from './speed.js';

/** measured IPS around a move: over this long before the decision, and after the drain */
const MEASURE_MS = 3000;

export interface ControllerOptions {
  model: string;
  profile?: DeviceProfile;
  driver: ElasticDriver;
  policy?: Partial<ElasticPolicy>;
  /** a node without an answer this long is lost (default 2000 ms, as the failover) */
  lossMs?: number;
  /** how often nodes are probed (default 250 ms) */
  probeMs?: number;
  /** a planned move waits at most this for the old topology's frames (default 10 s), then re-sends them */
  drainMs?: number;
  log: (m: string) => void;
  /** the topology that runs now: after start, and after every move with its record (the live view follows it) */
  onDeploy?: (d: Deployment, move?: MoveRecord) => void;
}

interface Watched {
  name: string;
  peer: Peer;
  device: string;
  lastAnswer: number;
  /** probes in a row that failed at once (refused, reset): the process is gone, whatever the host */
  refusals: number;
  /** a probe is out: no other is sent (a slow node would get one per tick, each costing it CPU) */
  probing: boolean;
}

/** probes refused in a row that mean the node's process is gone (a silent host is the timeout's) */
const REFUSALS = 3;

export class ElasticController {
  readonly moves: MoveRecord[] = [];
  private current!: Deployment;
  private epoch = 0;
  private sender: Sender | null = null;
  private watched: Watched[] = [];
  private readonly losses = new Map<string, number[]>();
  private readonly lostNow = new Set<string>();
  private readonly reachable = new Map<string, boolean>();
  private readonly draining = new Set<Promise<void>>();
  private readonly policy: ElasticPolicy;
  private readonly meter = new SpeedMeter();
  /** the speed each device's topology was planned with (1 unless measured otherwise) */
  private readonly plannedSpeed = new Map<string, number>();
  /** (time, frames completed) per tick, for the measured IPS around a move */
  private readonly progress: { at: number; done: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private moving: Promise<void> | null = null;
  /** the move under way: its devices, and how to call it off when one of them is lost */
  private movingTo: { devices: Set<string>; abort: AbortController } | null = null;
  private readonly afterTimers: NodeJS.Timeout[] = [];
  private pendingAfter: { record: MoveRecord; from: number }[] = [];
  private stopped = false;
  private lastMoveAt = 0;
  private t0 = 0;

  constructor(private readonly o: ControllerOptions) {
    this.policy = { ...DEFAULT_POLICY, ...o.policy };
  }

  /**
   * Starts the first topology on the first devices that answer; when fewer answer than it has
   * processes, the plan for those instead (a Pi that is off at the start is a loss before it).
   */
  async start(stages: StageSpec[]): Promise<Deployment> {
    const all = this.o.driver.devices();
    const answering = (await Promise.all(all.map(async (d) => ((await this.o.driver.reachable(d)) ? d : undefined)))).filter((d): d is string => d !== undefined);
    if (answering.length === 0) throw new Error(`none of the ${all.length} device(s) answers: ${all.join(', ')}`);
    if (answering.length < processCount(stages)) {
      const down = all.filter((d) => !answering.includes(d));
      stages = planFor(this.o.model, answering.length, this.o.profile).stages;
      this.o.log(`elastic: ${down.join(', ')} do(es) not answer: starting ${stagesText(stages)} on the ${answering.length} that do`);
    }
    const devices = answering.slice(0, processCount(stages));
    this.current = await this.o.driver.deploy(stages, devices);
    this.watch(this.current);
    this.o.onDeploy?.(this.current);
    return this.current;
  }

  /** From now on the sender's frames are watched over and moved. */
  attach(sender: Sender): void {
    this.sender = sender;
    this.t0 = this.lastMoveAt = Date.now();
    this.timer = setInterval(() => void this.tick(), this.o.probeMs ?? 250);
  }

  get deployment(): Deployment {
    return this.current;
  }

  /** Stops watching, waits for drains, and stops every topology still running. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const t of this.afterTimers) clearTimeout(t);
    this.measureAfter();
    for (const w of this.watched) w.peer.close();
    await this.moving;
    await Promise.all(this.draining);
    await this.current.stop();
    await this.o.driver.close?.();
  }

  private watch(d: Deployment): void {
    for (const w of this.watched) w.peer.close();
    const now = Date.now();
    this.meter.reset();
    this.watched = d.nodes.map((n) => ({ name: `${n.device}/${n.name}`, peer: new Peer(n.endpoint, this.o.driver.maxMessageBytes, () => {}, this.o.driver.secret), device: n.device, lastAnswer: now, refusals: 0, probing: false }));
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.sender) return;
    const now = Date.now();
    const lossMs = this.o.lossMs ?? 2000;
    this.progress.push({ at: now, done: this.sender.completedFrames });
    while (this.progress.length > 2 && now - this.progress[1]!.at > 60_000) this.progress.shift();
    for (const w of this.watched) {
      if (!w.probing) {
        w.probing = true;
        w.peer
          .stats(lossMs)
          .then(
            (s) => {
              w.lastAnswer = Date.now();
              w.refusals = 0;
              this.meter.observe(w.name, s, w.lastAnswer);
            },
            (e: Error) => {
              if (!/timeout/.test(e.message)) w.refusals++;
            },
          )
          .finally(() => (w.probing = false));
      }
      const silent = now - w.lastAnswer > lossMs;
      if ((silent || w.refusals >= REFUSALS) && !this.lostNow.has(w.device)) {
        this.lostNow.add(w.device);
        this.losses.set(w.device, [...(this.losses.get(w.device) ?? []), now]);
        this.o.log(`elastic: ${w.device} lost (${silent ? `no answer for ${((now - w.lastAnswer) / 1000).toFixed(1)} s` : `its node ${w.name.split('/')[1]} refuses connections`})`);
      }
    }
    for (const d of this.lostNow) this.callOffMoveTo(d);
    const inUse = new Set(this.current.nodes.map((n) => n.device));
    for (const d of this.o.driver.devices()) {
      if (inUse.has(d) && !this.lostNow.has(d)) continue;
      void this.o.driver.reachable(d).then((ok) => {
        if (ok && this.lostNow.has(d) && !inUse.has(d)) this.lostNow.delete(d);
        if (!ok) this.callOffMoveTo(d);
        this.reachable.set(d, ok);
      });
    }
    if (this.moving) return;
    const view: DeviceView[] = this.o.driver.devices().map((name) => ({
      name,
      inUse: inUse.has(name),
      alive: inUse.has(name) ? !this.lostNow.has(name) : !this.lostNow.has(name) && this.reachable.get(name) === true,
      losses: this.losses.get(name) ?? [],
      ...this.speedOf(name),
    }));
    const d = decide({ model: this.o.model, profile: this.o.profile, current: this.current.stages, devices: view, now, lastMoveAt: this.lastMoveAt }, this.policy);
    if (!d.move) return;
    this.movingTo = { devices: new Set(d.devices), abort: new AbortController() };
    this.moving = this.move(d.why, d.stages, d.devices, d.predictedBefore, d.predictedAfter, !canFinish(this.current, this.lostNow), new Map(view.map((v) => [v.name, v.speed ?? v.plannedSpeed ?? 1])))
      .catch((e: Error) => this.o.log(`elastic: the move (${d.why}) failed: ${e.message}; staying on ${stagesText(this.current.stages)}`))
      .finally(() => {
        this.moving = null;
        this.movingTo = null;
        this.lastMoveAt = Date.now();
      });
  }

  /** A device of the topology being started is lost: that topology cannot be used, its start is called off. */
  private callOffMoveTo(device: string): void {
    const m = this.movingTo;
    if (m?.devices.has(device) && !m.abort.signal.aborted) m.abort.abort(`${device} was lost while the new topology loaded`);
  }

  /** A device's measured speed (where its nodes have a baseline) and the one it was planned with. */
  private speedOf(device: string): { speed?: number; plannedSpeed: number } {
    const planned = this.plannedSpeed.get(device) ?? 1;
    const slow = this.watched.filter((w) => w.device === device).map((w) => this.meter.slowdown(w.name)).filter((x): x is number => x !== undefined);
    return slow.length ? { speed: planned / Math.max(...slow), plannedSpeed: planned } : { plannedSpeed: planned };
  }

  /** Frames completed per second between two times (ms), from the ticks' samples. */
  private measuredIps(from: number, to: number): number | undefined {
    const inside = this.progress.filter((p) => p.at >= from && p.at <= to);
    if (inside.length < 2) return undefined;
    const a = inside[0]!;
    const b = inside[inside.length - 1]!;
    return b.at > a.at ? ((b.done - a.done) * 1000) / (b.at - a.at) : undefined;
  }

  /** Each new topology's measured IPS, over MEASURE_MS or the second or more the run gave it. */
  private measureAfter(): void {
    this.pendingAfter = this.pendingAfter.filter(({ record, from }) => {
      const to = Math.min(from + MEASURE_MS, Date.now());
      const m = to - from >= 1000 ? this.measuredIps(from, to) : undefined;
      if (m !== undefined) record.measuredAfter = m;
      return m === undefined && !this.stopped;
    });
  }

  private async move(why: string, stages: StageSpec[], devices: string[], before: number, after: number, broken: boolean, speeds: Map<string, number>): Promise<void> {
    const at = Date.now();
    const measuredBefore = this.measuredIps(at - MEASURE_MS, at);
    this.o.log(`elastic: ${why}: starting ${stagesText(stages)} on ${devices.join(', ')} (predicted ${after.toFixed(2)} IPS, was ${before.toFixed(2)})`);
    const next = await this.o.driver.deploy(stages, devices, this.movingTo?.abort.signal);
    const old = this.current;
    const oldEpoch = this.epoch;
    try {
      if (this.stopped) throw new Error('the run ended first');
      this.epoch = this.sender!.move(next.first);
    } catch (e) {
      await next.stop();
      throw e;
    }
    const switched = Date.now();
    this.current = next;
    this.watch(next);
    for (const d of devices) {
      this.lostNow.delete(d);
      this.plannedSpeed.set(d, speeds.get(d) ?? 1);
    }
    const record: MoveRecord = { atMs: at - this.t0, why, from: stagesText(old.stages), to: stagesText(stages), devices, predictedBefore: before, predictedAfter: after, startMs: switched - at, resent: 0, drainMs: 0, ...(measuredBefore !== undefined ? { measuredBefore } : {}) };
    this.moves.push(record);
    this.o.onDeploy?.(next, record);
    const drain = this.drain(old, oldEpoch, broken, record, switched);
    this.draining.add(drain);
    void drain.finally(() => this.draining.delete(drain));
  }

  /** The old topology: its frames finish there (or are re-sent at once when it cannot finish them), then it stops. */
  private async drain(old: Deployment, epoch: number, broken: boolean, record: MoveRecord, since: number): Promise<void> {
    const limit = since + (this.o.drainMs ?? 10_000);
    while (!broken && !this.stopped && this.sender!.inFlightIn(epoch) > 0 && Date.now() < limit) await new Promise((r) => setTimeout(r, 50));
    record.resent = this.sender!.retire(epoch);
    await old.stop();
    record.drainMs = Date.now() - since;
    // the new topology's own rate: from 1 s after the old one stopped, over MEASURE_MS (or until the run ends)
    this.pendingAfter.push({ record, from: Date.now() + 1000 });
    this.afterTimers.push(setTimeout(() => this.measureAfter(), 1000 + MEASURE_MS + 300));
    this.o.log(`elastic: moved to ${record.to} in ${(record.startMs / 1000).toFixed(1)} s; the old topology drained in ${(record.drainMs / 1000).toFixed(1)} s${record.resent ? `, ${record.resent} frame(s) re-sent` : ''}`);
  }
}
