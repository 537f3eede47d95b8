// Is a node unit ready, still loading, or failed, and why. A node is ready when its process wrote
// ready.json (after loading its block and giving the known answer, runtime/node-main.ts); it has
// failed when systemd saw it exit or die, even if systemd is about to restart it: an engine that
// crashed on this CPU crashes again, so the start step reports the first crash instead of waiting
// for systemd's start limit. One SSH round trip per look.
import { shq } from '../transport/shell.js';
import type { Transport } from '../transport/transport.js';
import { unitOf } from './layout.js';

export const runtimeDirOf = (instance: string) => `/run/pifarm-node-${instance}`;

export interface ReadyInfo {
  pid: number;
  engine: string;
  arch?: string;
  knownAnswer?: string;
  loadMs?: number;
}

export interface NodeReadiness {
  instance: string;
  state: 'ready' | 'starting' | 'failed' | 'stopped';
  /** systemd's ActiveState and SubState, as `systemctl show` gives them */
  active: string;
  sub: string;
  mainPid: number;
  /** what systemd says: e.g. "failed (signal SIGILL)", "active (running)" */
  unit: string;
  ready?: ReadyInfo;
  /** the signal that killed the process, e.g. SIGILL */
  signal?: string;
  exitCode?: number;
  /** systemd gave up restarting it */
  gaveUp: boolean;
  restarts: number;
}

const SIGNALS: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** Shell that prints, per instance, systemd's view and the ready file between markers. */
function script(instances: string[]): string {
  return instances
    .map((i) => `echo "@@ ${i}"; systemctl show -p ActiveState,SubState,Result,ExecMainCode,ExecMainStatus,NRestarts,MainPID ${shq(unitOf(i))}; echo "ready=$(cat ${shq(`${runtimeDirOf(i)}/ready.json`)} 2>/dev/null)"`)
    .join('; ');
}

export function parseReadiness(stdout: string): NodeReadiness[] {
  return stdout
    .split('@@ ')
    .slice(1)
    .map((block) => {
      const [instance, ...lines] = block.split('\n');
      const kv = new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
      const active = kv.get('ActiveState') ?? 'unknown';
      const sub = kv.get('SubState') ?? 'unknown';
      const result = kv.get('Result') ?? 'success';
      const code = Number(kv.get('ExecMainCode') ?? 0); // 1 exited, 2 killed, 3 dumped core
      const status = Number(kv.get('ExecMainStatus') ?? 0);
      const mainPid = Number(kv.get('MainPID') ?? 0);
      const restarts = Number(kv.get('NRestarts') ?? 0);
      // Restart=on-failure: a unit failed for good after restarts is one whose start limit was hit
      // (systemd 252 keeps the last run's Result, e.g. "signal", rather than "start-limit-hit")
      const gaveUp = result === 'start-limit-hit' || (active === 'failed' && restarts > 0);
      const r: NodeReadiness = { instance: instance!.trim(), state: 'starting', active, sub, mainPid, unit: `${active} (${sub})`, gaveUp, restarts };
      if (code === 2 || code === 3) r.signal = SIGNALS[status] ?? `signal ${status}`;
      else if (code === 1 && status !== 0) r.exitCode = status;
      let ready: ReadyInfo | undefined;
      try {
        ready = JSON.parse(kv.get('ready') || 'null') as ReadyInfo | undefined;
      } catch {
        ready = undefined;
      }
      const crashed = sub === 'auto-restart' || active === 'failed';
      if (crashed) r.state = 'failed';
      else if (active === 'inactive') r.state = 'stopped';
      else if (active === 'active' && ready && ready.pid === mainPid) {
        r.state = 'ready';
        r.ready = ready;
      }
      if (r.state === 'failed' && r.signal) r.unit = `${active} (${r.signal}${r.gaveUp ? ', gave up restarting' : ''})`;
      else if (r.state === 'failed') r.unit = `${active} (${result}${r.exitCode !== undefined ? ` ${r.exitCode}` : ''}${r.gaveUp ? ', gave up restarting' : ''})`;
      return r;
    });
}

export async function readiness(t: Transport, instances: string[]): Promise<NodeReadiness[]> {
  if (instances.length === 0) return [];
  const r = await t.exec(script(instances), { timeoutMs: 30_000 });
  return parseReadiness(r.stdout);
}

/** The node's last log lines (why it failed), as the journal has them. */
export async function lastLogLines(t: Transport, instance: string, lines = 3): Promise<string[]> {
  const r = await t.exec(`journalctl -u ${shq(unitOf(instance))} -n 40 --no-pager -o cat 2>/dev/null | grep -v -E '^(Started|Stopped|Starting|Stopping) |^pifarm-node@|^Scheduled restart' | tail -n ${lines}`, { sudo: true, timeoutMs: 30_000 });
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}
