// Starting, stopping, restarting and inspecting the node units of a host.
import { shq } from '../transport/shell.js';
import type { Transport } from '../transport/transport.js';
import { unitOf } from './layout.js';
import { ProvisionError } from './types.js';

const WANTS = '/etc/systemd/system/multi-user.target.wants';

/** pifarm-node@ instances on the host: loaded (running or failed) or enabled. */
export async function installedInstances(t: Transport): Promise<string[]> {
  const r = await t.exec(
    `systemctl list-units 'pifarm-node@*' --all --plain --no-legend 2>/dev/null | awk '{print $1}'; ls ${WANTS} 2>/dev/null | grep '^pifarm-node@' || true`,
  );
  const out = new Set<string>();
  for (const l of r.stdout.split('\n')) {
    const m = /^pifarm-node@(.+)\.service$/.exec(l.trim());
    if (m) out.add(m[1]!);
  }
  return [...out].sort();
}

async function systemctl(t: Transport, args: string, what: string): Promise<void> {
  const r = await t.exec(`systemctl ${args}`, { sudo: true, timeoutMs: 120_000 });
  if (r.code !== 0) throw new ProvisionError(`${t.host}: ${what} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/**
 * A unit systemd gave up on (its start limit) starts again only once its failure is reset; the
 * reset also clears the limit's count, so pifarm's own starts and restarts (a deploy) never use up
 * the starts the limit allows for crashes.
 */
async function resetFailed(t: Transport, instances: string[]): Promise<void> {
  await t.exec(`systemctl reset-failed ${instances.map((i) => shq(unitOf(i))).join(' ')} 2>/dev/null; true`, { sudo: true });
}

export async function enableAndStart(t: Transport, instances: string[]): Promise<void> {
  if (instances.length === 0) return;
  await resetFailed(t, instances);
  await systemctl(t, `enable --now ${instances.map((i) => shq(unitOf(i))).join(' ')}`, 'starting the node units');
}

/** Restarts only the units that are running (a stopped farm stays stopped). */
export async function tryRestart(t: Transport, instances: string[]): Promise<void> {
  if (instances.length === 0) return;
  await resetFailed(t, instances);
  await systemctl(t, `try-restart ${instances.map((i) => shq(unitOf(i))).join(' ')}`, 'restarting the node units');
}

export async function restartUnits(t: Transport, instances: string[]): Promise<void> {
  if (instances.length === 0) return;
  await resetFailed(t, instances);
  await systemctl(t, `restart ${instances.map((i) => shq(unitOf(i))).join(' ')}`, 'restarting the node units');
}

export async function disableAndStop(t: Transport, instances: string[]): Promise<void> {
  if (instances.length === 0) return;
  await systemctl(t, `disable --now ${instances.map((i) => shq(unitOf(i))).join(' ')}`, 'stopping the node units');
  // a failed unit keeps its state until reset; forget it so status shows the farm as stopped
  await resetFailed(t, instances);
}

export interface UnitState {
  instance: string;
  active: string;
  sub: string;
  restarts: number;
  mainPid: number;
  /** microseconds since the epoch the unit last became active */
  activeSince: string;
}

export async function unitStates(t: Transport, instances: string[]): Promise<UnitState[]> {
  if (instances.length === 0) return [];
  const r = await t.exec(`systemctl show -p Id,ActiveState,SubState,NRestarts,MainPID,ActiveEnterTimestamp ${instances.map((i) => shq(unitOf(i))).join(' ')}`);
  const blocks = r.stdout.trim().split(/\n\s*\n/);
  return blocks.map((b) => {
    const kv = new Map(b.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    const id = kv.get('Id') ?? '';
    return {
      instance: /^pifarm-node@(.+)\.service$/.exec(id)?.[1] ?? id,
      active: kv.get('ActiveState') ?? 'unknown',
      sub: kv.get('SubState') ?? 'unknown',
      restarts: Number(kv.get('NRestarts') ?? 0),
      mainPid: Number(kv.get('MainPID') ?? 0),
      activeSince: kv.get('ActiveEnterTimestamp') ?? '',
    };
  });
}
