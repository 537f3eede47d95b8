// Brings every host's journal for its node units to logs/<run id>/<host>.log on the control machine.
import { createWriteStream, mkdirSync } from 'node:fs';
import { shq } from '../transport/shell.js';
import { join, resolve } from 'node:path';
import { unitStates } from '../provision/services.js';
import type { StepResult } from '../provision/types.js';
import { farmSecrets, redactor } from './redact.js';
import type { HostSession } from './session.js';

export interface LogsOptions {
  /** journalctl --since: a time systemd understands ("10 min ago", "2026-11-26 20:00", "@epoch") */
  since?: string;
  /** also from when the host's node units last started, if earlier than `since` (an `@epoch` since) */
  sinceUnitStart?: boolean;
  follow?: boolean;
  /** logs/<run id>/ */
  runId: string;
  logsDir?: string;
  /** --follow: each line as it comes */
  onLine?: (host: string, line: string) => void;
}

export interface LogFile {
  host: string;
  file: string;
  lines: number;
}

export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export function logsDirOf(o: LogsOptions): string {
  return resolve(o.logsDir ?? 'logs', o.runId);
}


export async function fetchLogs(s: HostSession, o: LogsOptions, files: LogFile[]): Promise<StepResult[]> {
  const t0 = Date.now();
  const dir = logsDirOf(o);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${s.host.name}.log`);
  const out = createWriteStream(file);
  let lines = 0;
  let partial = '';
  let since = o.since;
  if (o.sinceUnitStart && since?.startsWith('@')) {
    // nodes that kept running across `up` logged when they started: their lines belong to this run too
    const starts = (await unitStates(s.t, s.plan.nodes.map((n) => n.instance)))
      .map((u) => Date.parse(u.activeSince.replace(/^[A-Za-z]{3} /, '')))
      .filter((x) => Number.isFinite(x));
    const earliest = Math.min(Number(since.slice(1)) * 1000, ...starts);
    since = `@${Math.floor(earliest / 1000) - 1}`;
  }
  // secrets must not land in logs/ or on the terminal, whatever a node or a tool printed
  const redact = redactor(farmSecrets(s.inv, s.plan.secret));
  const cmd = `journalctl -u 'pifarm-node@*' --no-pager -o short-iso${since ? ` --since ${shq(since)}` : ''}${o.follow ? ' -f' : ''}`;
  const r = await s.t.exec(cmd, {
    sudo: true,
    timeoutMs: o.follow ? 7 * 24 * 3600_000 : 300_000,
    onStdout: (d) => {
      const text = partial + d.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        // whole lines only: a secret split across two chunks is still recognised
        const l = redact(raw);
        out.write(l + '\n');
        if (l.startsWith('-- ')) continue; // journalctl's "-- No entries --" and boot markers
        lines++;
        o.onLine?.(s.host.name, l);
      }
    },
  });
  if (partial) out.write(redact(partial));
  await new Promise<void>((res) => out.end(res));
  if (partial && !partial.startsWith('-- ')) lines++;
  if (r.code !== 0) return [{ step: 'logs', status: 'failed', detail: `journalctl failed: ${r.stderr.trim() || `exit ${r.code}`}`, ms: Date.now() - t0 }];
  files.push({ host: s.host.name, file, lines });
  return [{ step: 'logs', status: 'ok', detail: `${lines} line(s) -> ${file}`, ms: Date.now() - t0 }];
}
