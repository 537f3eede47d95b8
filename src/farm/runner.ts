// Runs one phase of a farm command (provision, deploy, start...) on many hosts at once: bounded
// concurrency, one listr2 subtask per host, each host's failure its own (the others go on).
import { Listr } from 'listr2';
import type { StepContext, StepResult } from '../provision/types.js';
import { DEFAULT_CONCURRENCY, type FarmOptions } from './options.js';
import type { HostSession } from './session.js';

export class FarmError extends Error {
  readonly userFacing = true;
}

export interface HostRun {
  host: string;
  results: StepResult[];
  failed: boolean;
}

export type HostWork = (s: HostSession, ctx: StepContext) => Promise<StepResult[]>;

export function rendererFor(o: FarmOptions): 'default' | 'simple' | 'silent' {
  if (o.json) return 'silent';
  return process.stderr.isTTY && process.stdout.isTTY && !process.env.CI ? 'default' : 'simple';
}

/** Runs `work` on every session; never throws for a host's failure. */
export async function runPhase(title: string, sessions: HostSession[], work: HostWork, o: FarmOptions): Promise<HostRun[]> {
  const runs = new Map<string, HostRun>(sessions.map((s) => [s.host.name, { host: s.host.name, results: [], failed: false }]));
  const list = new Listr(
    [
      {
        title: `${title} on ${sessions.length} host(s)`,
        task: (_ctx, task) =>
          task.newListr(
            sessions.map((s) => ({
              title: s.host.name,
              task: async (_c: unknown, sub: { title: string; output: string }) => {
                const run = runs.get(s.host.name)!;
                const t0 = Date.now();
                let ctx: StepContext;
                try {
                  ctx = await s.context((m) => (sub.output = m));
                } catch (e) {
                  run.results.push({ step: 'connect', status: 'failed', detail: (e as Error).message, ms: Date.now() - t0 });
                  run.failed = true;
                  throw e;
                }
                let results: StepResult[];
                try {
                  results = await work(s, ctx);
                } catch (e) {
                  // a step sequence reports its own failures; anything else (a dropped connection in
                  // status or logs) is this host's failure too
                  results = [{ step: title, status: 'failed', detail: (e as Error).message, ms: Date.now() - t0 }];
                }
                run.results.push(...results);
                const failed = results.find((r) => r.status === 'failed');
                const changed = results.filter((r) => r.status === 'changed').length;
                if (failed) {
                  run.failed = true;
                  throw new Error(`${s.host.name}: ${failed.step}: ${failed.detail}`);
                }
                sub.title = `${s.host.name}: ${changed ? `${changed} changed` : 'ok'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
              },
            })),
            { concurrent: Math.max(1, o.concurrency ?? DEFAULT_CONCURRENCY), exitOnError: false },
          ),
      },
    ],
    { renderer: rendererFor(o), exitOnError: false, collectErrors: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false } } as never,
  );
  try {
    await list.run();
  } catch {
    // per-host failures are in `runs`; listr only displays them
  }
  return [...runs.values()];
}

/** Folds the runs of several phases into one per host, in host order. */
export function mergeRuns(order: string[], ...phases: HostRun[][]): HostRun[] {
  const out = new Map<string, HostRun>(order.map((h) => [h, { host: h, results: [], failed: false }]));
  for (const phase of phases) {
    for (const r of phase) {
      const m = out.get(r.host) ?? { host: r.host, results: [], failed: false };
      m.results.push(...r.results);
      m.failed ||= r.failed;
      out.set(r.host, m);
    }
  }
  return [...out.values()];
}
