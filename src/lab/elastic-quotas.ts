// The emulated Pis of an elastic local farm: each process of a topology in a CPU-quota group of
// its own, set once the topology is loaded (load time is not emulated, as in bench farm). The
// quota follows from each stage's CPU per frame here: first its layers timed in a child process
// (once per kind of stage, cached), then, once the stage's processes have computed a few frames,
// their own measured CPU per frame (the runtime's work included), bench farm's calibration live,
// kept for the next topology with that stage.
// Quotas from this machine's conv/dense speeds alone made VGG16 run at a fifth of its prediction.
import type { StageSpec } from '../model/spec.js';
import type { NodeConfig } from '../runtime/config.js';
import type { NodeStats } from '../runtime/protocol.js';
import { cpuPerFrame } from '../report/run-result.js';
import { stageCpuSeconds } from './bench-quota.js';
import { createLimitGroup, execInGroup, type LimitGroup } from './emulate/cgroup.js';
import { periodUsFor } from './emulate/quota.js';
import type { LocalFarm } from './local-launch.js';
import { timeLayer } from './emulate/calibrate.js';

/**
 * CPU seconds per frame of a kind of stage (model, layers, shards): timed alone once, then as
 * measured in a farm (about twice the time alone for VGG16's stages under their quotas), so the
 * next topology with that stage starts at its measured quota (a move's new processes run at once
 * at the right speed)
 */
const known = new Map<string, Promise<number>>();
const measuredKinds = new Set<string>();

const kindOf = (model: string, s: StageSpec) => `${model}:${s.layers.join(',')}:${s.shards}`;

function stageCpu(model: string, s: StageSpec): Promise<number> {
  const key = kindOf(model, s);
  let t = known.get(key);
  if (!t) known.set(key, (t = timeLayer(model, s.layers.join(','), 3, (c) => c, s.shards).then((x) => x.medianCpuMs / 1000)));
  return t;
}

/** per stage, the fraction of one core each process gets; with measured CPU seconds per frame */
export type QuotaRule = (stages: StageSpec[], cpuSecondsPerFrame?: (number | undefined)[]) => number[];

/** frames each process of a stage computes before its quota is set from their measured CPU per frame */
const REFINE_FRAMES = 2;

/** a process at 1% of a core takes seconds to answer a new connection (its quota covers its loop too) */
const STATS_TIMEOUT_MS = 20_000;

/**
 * The CFS period of an emulated process here: bench farm's, but at most 200 ms. A process at 1% of
 * a core would otherwise get its 10 ms once a second, shared by its compute thread and its event
 * loop, and answer the controller's probes seconds late (a Pi has four cores for them).
 */
export function elasticPeriodUs(cores: number): number {
  return Math.min(periodUsFor(cores), 200_000);
}

export class EmulatedQuotas {
  private readonly groups: { group: LimitGroup; stage: number }[] = [];
  private refine: NodeJS.Timeout | undefined;

  constructor(
    private readonly model: string,
    private readonly name: string,
    private readonly stages: StageSpec[],
    private readonly rule: QuotaRule,
    private readonly log: (m: string) => void = () => {},
  ) {}

  /** launchLocalFarm's command: the process starts inside a group of its own */
  readonly command = (cfg: NodeConfig, argv: string[]): string[] => {
    const group = createLimitGroup(`${this.name}-${this.groups.length}`, {});
    this.groups.push({ group, stage: cfg.stageIndex });
    return execInGroup(group, argv);
  };

  /** The topology is loaded: quotas on, and refined as its stages compute. */
  async start(farm: LocalFarm): Promise<void> {
    const measured = this.stages.map((s) => measuredKinds.has(kindOf(this.model, s)));
    this.set(this.rule(this.stages, await Promise.all(this.stages.map((s) => stageCpu(this.model, s)))), undefined, (st) => (measured[st] ? 'as measured in an earlier topology' : 'from its layers timed alone'));
    const first = await farm.stats(STATS_TIMEOUT_MS);
    const refined = new Set<number>();
    let asking = false; // a slow node's stats can take longer than the interval
    this.refine = setInterval(() => {
      if (asking) return;
      asking = true;
      void farm
        .stats(STATS_TIMEOUT_MS)
        .then(
          (now: NodeStats[]) => {
            const cpu = stageCpuSeconds(this.stages, cpuPerFrame(first, now));
            for (let st = 0; st < this.stages.length; st++) {
              const mine = (k: number) => farm.nodes[k]!.config.stageIndex === st;
              if (refined.has(st) || !now.every((n, k) => !mine(k) || n.computed - first[k]!.computed >= REFINE_FRAMES)) continue;
              this.set(this.rule(this.stages, cpu), new Set([st]), () => `from its CPU per frame here, ${(cpu[st]! * 1000).toFixed(0)} ms`);
              known.set(kindOf(this.model, this.stages[st]!), Promise.resolve(cpu[st]!));
              measuredKinds.add(kindOf(this.model, this.stages[st]!));
              refined.add(st);
            }
            if (refined.size === this.stages.length) clearInterval(this.refine);
          },
          () => {}, // a process is gone (a lost device): the others keep their quotas
        )
        .finally(() => (asking = false));
    }, 1000);
    this.refine.unref();
  }

  /** After the topology's processes stopped. */
  async remove(): Promise<void> {
    clearInterval(this.refine);
    for (const g of this.groups) await g.group.remove().catch(() => {});
  }

  private set(q: number[], only: Set<number> | undefined, why: (stage: number) => string): void {
    this.stages.forEach((s, st) => {
      if (!only || only.has(st)) this.log(`emulated ${s.role}: ${(100 * q[st]!).toFixed(2)}% of a core per process (${why(st)})`);
    });
    for (const g of this.groups) if (!only || only.has(g.stage)) g.group.setCpuLimit(q[g.stage]!, elasticPeriodUs(q[g.stage]!));
  }
}
