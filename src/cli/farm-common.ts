// Flags every farm command takes, and how a farm command's outcome is printed: a summary table
// (host, step, result, time), a failure summary, the exit code.
import type { FarmOptions } from '../farm/options.js';
import type { FarmOutcome } from '../farm/commands.js';
import { numberFlag, UsageError } from './command.js';
import { table } from '../report/text-table.js';

export const FARM_FLAGS = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
  'retry-failed': { type: 'boolean' },
  'accept-new-key': { type: 'string', multiple: true },
  'user-known-hosts': { type: 'boolean' },
  'state-dir': { type: 'string' },
  'control-address': { type: 'string' },
  'load-timeout': { type: 'string' },
} as const;

export const FARM_HELP = `  -i, --inventory FILE    the inventory (required)
  --limit HOST|GROUP      only these hosts (repeat, or comma-separated)
  --concurrency N         hosts worked on at once (default 16)
  --json                  machine-readable result on stdout, no progress display
  --retry-failed          only the hosts that failed the last run of this command
  --accept-new-key HOST   accept a changed SSH host key of HOST (after checking why it changed)
  --user-known-hosts      record host keys in ~/.ssh/known_hosts instead of .pifarm/known_hosts
  --state-dir DIR         where pifarm keeps known_hosts, bundles and run state (default .pifarm)
  --control-address IP    this machine's address as the hosts reach it (default: found by route)
  --load-timeout S        seconds a started node may take to load its block and give its known
                          answer before start or deploy fails the host (default 300)`;

type FarmFlagValues = {
  inventory?: string;
  limit?: string[];
  concurrency?: string;
  json?: boolean;
  'retry-failed'?: boolean;
  'accept-new-key'?: string[];
  'user-known-hosts'?: boolean;
  'state-dir'?: string;
  'control-address'?: string;
  'load-timeout'?: string;
};

export function farmOptions(v: FarmFlagValues, extra: Partial<FarmOptions> = {}): FarmOptions {
  if (!v.inventory) throw new UsageError('-i INVENTORY is required (an inventory YAML file)');
  const split = (xs?: string[]) => xs?.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  const o: FarmOptions = {
    inventoryFile: v.inventory,
    concurrency: numberFlag(v.concurrency, 'concurrency', 16, { min: 1, integer: true }),
    json: !!v.json,
    retryFailed: !!v['retry-failed'],
    userKnownHosts: !!v['user-known-hosts'],
    ...extra,
  };
  const limit = split(v.limit);
  if (limit?.length) o.limit = limit;
  const accept = split(v['accept-new-key']);
  if (accept?.length) o.acceptNewKey = accept;
  if (v['state-dir']) o.stateDir = v['state-dir'];
  if (v['control-address']) o.controlAddress = v['control-address'];
  if (v['load-timeout'] !== undefined) o.readyTimeoutMs = numberFlag(v['load-timeout'], 'load-timeout', 300, { min: 1 }) * 1000;
  return o;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function formatOutcome(r: FarmOutcome): string {
  const rows = r.runs.flatMap((h) => h.results.map((s) => [h.host, s.step, s.status, secs(s.ms), s.detail.length > 90 ? s.detail.slice(0, 87) + '...' : s.detail]));
  const lines = [rows.length ? table(['host', 'step', 'result', 'time', 'detail'], rows) : '(no host selected)', ''];
  if (r.failed.length) {
    lines.push(`${r.failed.length} of ${r.runs.length} host(s) FAILED:`);
    for (const h of r.runs.filter((x) => x.failed)) {
      const f = h.results.find((s) => s.status === 'failed');
      lines.push(`  ${h.host}: ${f ? `${f.step}: ${f.detail}` : 'failed'}`);
    }
    if (!['status', 'logs', 'run'].includes(r.command)) lines.push(`re-run only those with: pifarm ${r.command} ... --retry-failed`);
  } else lines.push(`pifarm ${r.command}: ${r.runs.length} host(s) ok in ${secs(r.ms)}`);
  // the hosts can all be fine and the run still fail: the closing line says so
  const run = runVerdict(r);
  if (run) lines.push(`the run FAILED: ${run}`);
  return lines.join('\n');
}

/** Why the run of `up` or `run` failed, or undefined when it did not fail (or there was none). */
export function runVerdict(r: FarmOutcome): string | undefined {
  if (r.command !== 'up' && r.command !== 'run') return undefined;
  if (r.runError) return r.runError === 'not run under --check' ? undefined : r.runError;
  if (!r.report) return undefined;
  const rep = r.report;
  if (rep.completed === 0) return `completed 0 of ${rep.frames} frames`;
  const stopped = rep.sender?.source;
  if (stopped?.error) return `the source stopped after ${stopped.offered} frame(s): ${stopped.error}`;
  if (!rep.check.ok) return `the output check failed (max difference ${rep.check.maxAbsDiff.toExponential(2)}, tolerance ${rep.check.tolerance})`;
  return undefined;
}

export function printOutcome(r: FarmOutcome, json: boolean, body?: string): number {
  if (json) console.log(JSON.stringify(r, null, 2));
  else {
    if (body) console.log(body + '\n');
    console.log(formatOutcome(r));
  }
  return r.failed.length ? 1 : 0;
}
