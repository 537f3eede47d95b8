// `pifarm bench farm`, quick mode: a preset, a topology file or a plan run as local node processes,
// each one an emulated Pi in its own CPU-quota (and memory) cgroup; bench-run.ts streams the
// frames, sets the measured IPS against the planner's prediction and writes the report. This file
// is the driver for local processes (of a built-in model, or an imported one's stage graphs).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importedGraphs } from '../farm/imported-graphs.js';
import type { ImportedModel } from '../model/imported.js';
import { processCount, type StageSpec } from '../model/spec.js';
import { DEFAULT_SEED } from '../model/weights.js';
import type { NodeConfig } from '../runtime/config.js';
import { OS_RESERVED_MB } from '../topology/cost-model.js';
import { newRunId } from '../report/run-result.js';
import { createLimitGroup, detectCgroups, execInGroup, removeStaleGroups, type LimitGroup } from './emulate/cgroup.js';
import type { PiProfile } from './emulate/profiles.js';
import { periodUsFor, quotaFits } from './emulate/quota.js';
import { predictFor } from './bench-core.js';
import { runBench, type BenchDriver, type BenchRunOutput, type CpuLimits, type SenderPorts } from './bench-run.js';
import { launchLocalFarm, type LocalFarm } from './local-launch.js';
import type { Phases } from './phases.js';

export interface BenchFarmOptions {
  model: string;
  /** the package and its folder, when `model` names an imported model */
  imported?: { modelsDir: string; pkg: ImportedModel };
  /** preset name, "plan-N", or the topology file */
  name: string;
  stages: StageSpec[];
  /** emulate every node process as this Pi; absent: processes run at this machine's speed */
  profile?: PiProfile;
  frames: number;
  warmup: number;
  window?: number;
  engine?: 'onnx' | 'tfjs';
  reportsDir: string;
  comparePaper?: boolean;
  runId?: string;
  log?: (m: string) => void;
}

export function runBenchFarm(o: BenchFarmOptions): Promise<BenchRunOutput> {
  const log = o.log ?? ((m: string) => console.error(m));
  const runId = o.runId ?? newRunId(`bench-${o.name}`);
  const engine = o.engine ?? 'onnx';
  return runBench(
    {
      runId,
      model: o.model,
      name: o.name,
      stages: o.stages,
      ...(o.imported ? { imported: o.imported.pkg } : {}),
      engine,
      ...(o.profile ? { profile: o.profile, prediction: predictFor(o.imported?.pkg ?? o.model, o.stages, o.profile) } : {}),
      frames: o.frames,
      warmup: o.warmup,
      ...(o.window ? { window: o.window } : {}),
      // local processes share this machine with the sender: a frame is given long
      minFrameTimeoutMs: 600_000,
      reportsDir: o.reportsDir,
      comparePaper: o.comparePaper ?? false,
      log,
    },
    new LocalDriver(o.model, o.stages, engine, runId, o.profile, log, o.imported?.modelsDir),
  );
}

/** Node processes on this machine, each in a limit group of its own when emulating a Pi. */
export class LocalDriver implements BenchDriver {
  private farm: LocalFarm | undefined;
  private readonly groups: LimitGroup[] = [];
  /** the stage of each group, in launch order */
  private readonly groupStage: number[] = [];
  private readonly memoryMb: number | undefined;
  private graphDir: string | undefined;

  constructor(
    private readonly model: string,
    private readonly stages: StageSpec[],
    private readonly engine: 'onnx' | 'tfjs',
    private readonly runId: string,
    private readonly profile: PiProfile | undefined,
    private readonly log: (m: string) => void,
    /** where the imported model `model` is; absent: a built-in model */
    private readonly modelsDir?: string,
  ) {
    this.memoryMb = profile ? profile.ramMb - OS_RESERVED_MB : undefined;
  }

  async start(phases: Phases): Promise<SenderPorts> {
    if (this.profile) {
      const layout = detectCgroups(); // fail before anything starts when there is no cgroup cpu controller
      const stale = removeStaleGroups(layout);
      if (stale) this.log(`removed ${stale} empty cgroup(s) left by interrupted runs`);
    }
    // Each node process starts inside its own group, so its block loads under the memory limit (a
    // stage that does not fit a Pi fails here as it would there). The CPU quota goes on once all
    // are loaded: load time is not measured, and at a Pi's speed it would only make the run long.
    const memoryMb = this.memoryMb;
    const command =
      memoryMb !== undefined
        ? (cfg: NodeConfig, argv: string[]) => {
            this.groupStage.push(this.stages.findIndex((st) => st.role === cfg.role));
            const g = createLimitGroup(`${this.runId}-${this.groups.length}`, { memoryMb });
            this.groups.push(g);
            return execInGroup(g, argv);
          }
        : undefined;
    const graphs = this.modelsDir !== undefined ? this.writeGraphs(this.modelsDir) : undefined;
    const farm = await phases.run(`start ${processCount(this.stages)} node processes`, async () => {
      try {
        return await launchLocalFarm({ model: this.model, stages: this.stages, engine: this.engine, threads: 1, seed: DEFAULT_SEED, ...(command ? { command } : {}), ...(graphs ? { graphs } : {}) });
      } catch (e) {
        const oom = this.groups.filter((g) => g.oomKills() > 0).length;
        if (oom) throw new Error(`${(e as Error).message}\n${oom} node process(es) were killed for exceeding the emulated ${this.profile!.name}'s ${memoryMb} MB (RAM less the OS): the stage does not fit this Pi`);
        throw e;
      }
    });
    this.farm = farm;
    return { first: farm.first, lastShards: farm.lastShards, listen: { host: '127.0.0.1', port: farm.senderPort }, maxMessageBytes: farm.maxMessageBytes };
  }

  /** An imported model's stage graphs, written to a folder of their own (removed at teardown). */
  private writeGraphs(modelsDir: string) {
    this.graphDir = mkdtempSync(join(tmpdir(), 'pifarm-bench-graphs-'));
    const g = importedGraphs(modelsDir, this.model, this.stages, this.graphDir);
    for (const row of g.files) for (const f of row) writeFileSync(f.path, f.bytes);
    return { graph: (k: number, shard: number) => g.graphs[k]![shard]!, maxMessageBytes: g.maxMessageBytes };
  }

  stats() {
    return this.farm!.stats();
  }

  limitCpu(quotaPerStage: number[]): CpuLimits {
    this.groups.forEach((g, i) => {
      const q = quotaPerStage[this.groupStage[i]!]!;
      g.setCpuLimit(q, periodUsFor(q));
    });
    const total = this.groupStage.reduce((a, st) => a + quotaPerStage[st]!, 0);
    const n = this.groups.length;
    const fit = quotaFits(total / n, n, cpus().length);
    return { perStage: quotaPerStage, fit: fit.ok ? { ok: true, message: `total ${total.toFixed(2)} cores of ${cpus().length}` } : fit };
  }

  network() {
    return { bandwidthMbit: 0, latencyMs: 0, lossPct: 0, emulated: false };
  }

  throttled(): number[] {
    return this.groups.map((g) => g.cpuThrottling().throttled);
  }

  async lossClues(): Promise<string[]> {
    return (this.farm?.nodes ?? []).flatMap((n) => n.output.filter((l) => /drop|down|fail|timed out|closed|refus/i.test(l)).slice(-5));
  }

  async teardown(): Promise<string[]> {
    const problems: string[] = [];
    await this.farm?.stop();
    if (this.graphDir) rmSync(this.graphDir, { recursive: true, force: true });
    for (const g of this.groups) await g.remove().catch((e: Error) => problems.push(e.message));
    return problems;
  }
}
