// The farm commands: each selects hosts (--limit, --retry-failed), opens one session per host, runs
// its phases with bounded concurrency, and returns per-host results. A failed host never stops the
// others; the caller turns `failed` into the exit code.
import { deployHost, provisionHost, rollbackHost, startHost, stopHost } from '../provision/host.js';
import type { StepResult } from '../provision/types.js';
import type { CheckedRun } from '../report/types.js';
import { fetchLogs, logsDirOf, newRunId, type LogFile, type LogsOptions } from './logs.js';
import type { FarmOptions } from './options.js';
import { limitHosts, planFarm, planProvision, type FarmPlan, type HostsPlan } from './plan.js';
import { adaptFarm, applyAdaptation, describeAdaptation, downHosts } from './adapt.js';
import { FarmDownError, waitForFarm } from './degraded.js';
import { FarmError, mergeRuns, runPhase, type HostRun, type HostWork } from './runner.js';
import { runFarmSender, senderIsLocal, type SenderRunOptions } from './sender.js';
import { HostSession } from './session.js';
import { lastFailed, saveLastRun } from './state.js';
import { hostStatus, unreachableStatus, type HostStatus } from './status.js';

export interface FarmOutcome {
  command: string;
  /** one per selected host, every step it ran */
  runs: HostRun[];
  failed: string[];
  ms: number;
  report?: CheckedRun;
  logs?: LogFile[];
  logsDir?: string;
  status?: HostStatus[];
  /** why the sender did not run, or failed */
  runError?: string;
  /** run --adapt: what was re-planned and moved, and the new predicted IPS */
  adaptation?: string;
}

interface Selected<P extends FarmPlan | HostsPlan = FarmPlan> {
  plan: P;
  sessions: HostSession[];
}

async function select(command: string, o: FarmOptions): Promise<Selected>;
async function select(command: 'provision', o: FarmOptions, hostsOnly: true): Promise<Selected<FarmPlan | HostsPlan>>;
/** The plan and one session per selected host; provision (hostsOnly) needs the hosts alone. */
async function select(command: string, o: FarmOptions, hostsOnly = false): Promise<Selected<FarmPlan | HostsPlan>> {
  const plan = hostsOnly ? await planProvision(o) : await planFarm(o);
  let hosts = limitHosts(plan.inv, plan.hosts, o.limit);
  if (o.retryFailed) {
    const failed = lastFailed(o, command, plan.inv.file);
    if (failed === undefined) throw new FarmError(`--retry-failed: no earlier "pifarm ${command}" run on ${plan.inv.file} to retry`);
    hosts = hosts.filter((h) => failed.includes(h.name));
  }
  return { plan, sessions: hosts.map((h) => new HostSession(plan.inv, h, plan.plans.get(h.name)!, o)) };
}

async function finish(command: string, o: FarmOptions, sel: Selected<FarmPlan | HostsPlan>, runs: HostRun[], t0: number, extra: Partial<FarmOutcome> = {}): Promise<FarmOutcome> {
  await Promise.all(sel.sessions.map((s) => s.close().catch(() => {})));
  const failed = runs.filter((r) => r.failed).map((r) => r.host);
  if (!o.check) saveLastRun(o, command, sel.plan.inv.file, failed);
  return { command, runs, failed, ms: Date.now() - t0, ...extra };
}

const work =
  (fn: (ctx: Parameters<HostWork>[1]) => Promise<StepResult[]>): HostWork =>
  (_s, ctx) =>
    fn(ctx);

/** provision, deploy, start, stop, rollback: one phase each. */
export async function simpleCommand(command: 'provision' | 'deploy' | 'start' | 'stop' | 'rollback', o: FarmOptions): Promise<FarmOutcome> {
  const t0 = Date.now();
  const sel = command === 'provision' ? await select(command, o, true) : await select(command, o);
  const fn = { provision: provisionHost, deploy: deployHost, start: startHost, stop: stopHost, rollback: rollbackHost }[command];
  try {
    const runs = await runPhase(command, sel.sessions, work(fn), o);
    return await finish(command, o, sel, runs, t0);
  } catch (e) {
    await Promise.all(sel.sessions.map((s) => s.close().catch(() => {})));
    throw e;
  }
}

export async function statusCommand(o: FarmOptions): Promise<FarmOutcome> {
  const t0 = Date.now();
  const sel = await select('status', o);
  const status: HostStatus[] = [];
  const runs = await runPhase('status', sel.sessions, (s) => hostStatus(s, status), o);
  // a host that could not be reached is shown as down, not left out
  for (const s of sel.sessions) {
    const run = runs.find((r) => r.host === s.host.name);
    if (run?.failed && !status.some((h) => h.host === s.host.name)) status.push(unreachableStatus(s, run.results.find((x) => x.status === 'failed')?.detail ?? 'unreachable'));
  }
  const order = sel.sessions.map((s) => s.host.name);
  status.sort((a, b) => order.indexOf(a.host) - order.indexOf(b.host));
  return finish('status', o, sel, runs, t0, { status });
}

export async function logsCommand(o: FarmOptions, lo: Omit<LogsOptions, 'runId'> & { runId?: string }): Promise<FarmOutcome> {
  const t0 = Date.now();
  const sel = await select('logs', o);
  const logs: LogFile[] = [];
  const opts: LogsOptions = { ...lo, runId: lo.runId ?? newRunId() };
  if (o.logsDir && !opts.logsDir) opts.logsDir = o.logsDir;
  const runs = await runPhase('logs', sel.sessions, (s) => fetchLogs(s, opts, logs), o);
  return finish('logs', o, sel, runs, t0, { logs, logsDir: logsDirOf(opts) });
}

/** How long a runnable farm waits for its missing nodes before running without them. */
const DEGRADED_GRACE_MS = 10_000;

/** Waits for the farm's nodes to answer (or enough of them), then streams frames from the inventory's sender. */
async function senderPhase(plan: FarmPlan, so: SenderRunOptions, readyTimeoutMs: number, o: FarmOptions, sessions: HostSession[] = []): Promise<CheckedRun> {
  const nodes = plan.wiring.nodes.map((n, i) => ({ ...plan.farm.placements[i]!, address: plan.inv.hosts.find((h) => h.name === plan.farm.placements[i]!.host)?.address ?? n.listen.host, port: n.listen.port }));
  // Nodes down (host off, unit failed) do not stop the run while every stage keeps a complete
  // replica: the runtime fails over to the live ones (farm/degraded.ts). An elastic run starts
  // nodes of its own.
  if (so.elastic) {
    if (!senderIsLocal(plan)) throw new FarmError(`${plan.inv.file}: farm.sender: --elastic needs the sender on this machine (farm.sender: local), where the controller runs beside it`);
    return runFarmSender(plan, so);
  }
  try {
    await waitForFarm(nodes, readyTimeoutMs, DEGRADED_GRACE_MS, so.log ?? ((m) => console.error(`pifarm: ${m}`)));
  } catch (e) {
    if (e instanceof FarmDownError) throw new FarmError(e.message);
    throw e;
  }
  if (senderIsLocal(plan)) return runFarmSender(plan, so);
  const name = plan.farm.sender.host;
  let s = sessions.find((x) => x.host.name === name);
  const own = !s;
  const host = plan.inv.hosts.find((h) => h.name === name);
  if (!host) throw new FarmError(`${plan.inv.file}: farm.sender: unknown host "${name}"`);
  s ??= new HostSession(plan.inv, host, plan.plans.get(name)!, o);
  try {
    return await runFarmSender(plan, so, s);
  } finally {
    if (own) await s.close().catch(() => {});
  }
}

export async function runCommand(o: FarmOptions, so: SenderRunOptions, readyTimeoutMs = 60_000, adapt = false): Promise<FarmOutcome> {
  const t0 = Date.now();
  let plan = await planFarm(o);
  let adaptation: string | undefined;
  if (adapt) {
    // hosts down: plan for the ones alive, move the roles, run on the new topology (farm/adapt.ts)
    const down = await downHosts(plan);
    if (down.length) {
      const a = await adaptFarm(plan, down, o);
      adaptation = describeAdaptation(a);
      (so.log ?? ((m: string) => console.error(m)))(adaptation);
      await applyAdaptation(a, o);
      plan = a.plan;
    }
  }
  const report = await senderPhase(plan, so, readyTimeoutMs, o);
  return { command: 'run', runs: [], failed: [], ms: Date.now() - t0, report, ...(adaptation ? { adaptation } : {}) };
}

/** provision + deploy + start + run + logs. Hosts that fail a phase skip the later ones. */
export async function upCommand(o: FarmOptions, so: SenderRunOptions, readyTimeoutMs = 120_000): Promise<FarmOutcome> {
  const t0 = Date.now();
  const sel = await select('up', o);
  const since = `@${Math.floor(Date.now() / 1000) - 5}`;
  const alive = (runs: HostRun[]) => sel.sessions.filter((s) => !runs.find((r) => r.host === s.host.name)?.failed);
  const order = sel.sessions.map((s) => s.host.name);
  const phases: HostRun[][] = [];
  let extra: Partial<FarmOutcome> = {};
  try {
    phases.push(await runPhase('provision', sel.sessions, work(provisionHost), o));
    let ok = alive(mergeRuns(order, ...phases));
    phases.push(await runPhase('deploy', ok, work(deployHost), o));
    ok = alive(mergeRuns(order, ...phases));
    phases.push(await runPhase('start', ok, work(startHost), o));
    const merged = mergeRuns(order, ...phases);
    const failedNow = merged.filter((r) => r.failed).map((r) => r.host);
    const placedOnFailed = [...sel.plan.farm.placements.map((p) => p.host), sel.plan.farm.sender.host].filter((h) => failedNow.includes(h));
    if (o.check) extra.runError = 'not run under --check';
    else if (placedOnFailed.length) extra.runError = `not run: node host(s) ${[...new Set(placedOnFailed)].join(', ')} failed`;
    else {
      try {
        extra.report = await senderPhase(sel.plan, so, readyTimeoutMs, o, sel.sessions);
      } catch (e) {
        extra.runError = (e as Error).message;
      }
      const logs: LogFile[] = [];
      const runId = newRunId();
      const withNodes = sel.sessions.filter((s) => s.plan.nodes.length > 0);
      const lo: LogsOptions = { runId, since, sinceUnitStart: true };
      if (o.logsDir) lo.logsDir = o.logsDir;
      phases.push(await runPhase('logs', withNodes, (s) => fetchLogs(s, lo, logs), o));
      extra = { ...extra, logs, logsDir: logsDirOf(lo) };
    }
    return await finish('up', o, sel, mergeRuns(order, ...phases), t0, extra);
  } catch (e) {
    await Promise.all(sel.sessions.map((s) => s.close().catch(() => {})));
    throw e;
  }
}

export function downCommand(o: FarmOptions): Promise<FarmOutcome> {
  return simpleCommand('stop', o).then((r) => ({ ...r, command: 'down' }));
}
