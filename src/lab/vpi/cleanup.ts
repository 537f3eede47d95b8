// Tears virtual Pis down: containers, overlay mounts, network namespaces, veths, the bridge.
// Synchronous on purpose: it runs from process exit handlers and before a new start, and it must
// finish whatever state a crashed earlier run left (every step ignores "not there").
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { childPids, mountsUnder, pidAlive, pidsWithCmdline, readPid, runQuietSync, sleepSync } from './system.js';

export const VPI_ROOT = '/run/pifarm-vpi';
export const BRIDGE = 'pfbr0';

/**
 * Stops containers: poweroff through nspawn (SIGTERM) when given a grace time, then SIGKILL of
 * their init, which ends the whole PID namespace at once (a pulled power plug). All containers
 * at once: nspawn takes about a second to exit after its init dies.
 */
export function killContainersSync(nspawnPids: number[], graceMs: number): void {
  const alive = () => nspawnPids.filter(pidAlive);
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  if (graceMs > 0) {
    for (const pid of alive()) signal(pid, 'SIGTERM');
    const until = Date.now() + graceMs;
    while (alive().length > 0 && Date.now() < until) sleepSync(50);
  }
  for (const pid of alive()) for (const init of childPids(pid)) signal(init, 'SIGKILL');
  const until = Date.now() + 5000;
  while (alive().length > 0 && Date.now() < until) sleepSync(20);
  for (const pid of alive()) signal(pid, 'SIGKILL');
}

/** Removes every virtual Pi and the bridge, whoever started them. */
export function teardownAllSync(opts: { graceMs?: number } = {}): void {
  const grace = opts.graceMs ?? 0;
  // containers recorded by a run, then any nspawn still pointing into our folder
  const recorded: number[] = [];
  if (existsSync(VPI_ROOT)) {
    for (const name of readdirSync(VPI_ROOT)) {
      const pid = readPid(join(VPI_ROOT, name, 'nspawn.pid'));
      if (pid !== undefined) recorded.push(pid);
    }
  }
  killContainersSync(recorded, grace);
  killContainersSync(pidsWithCmdline(VPI_ROOT + '/'), 0);
  for (const m of mountsUnder(VPI_ROOT)) {
    if (!runQuietSync('umount', [m])) runQuietSync('umount', ['-l', m]);
  }
  if (existsSync('/run/netns')) {
    for (const ns of readdirSync('/run/netns')) if (/^vpi\d+$/.test(ns)) runQuietSync('ip', ['netns', 'del', ns]);
  }
  for (const link of listLinks()) if (/^vpi\d+-h$/.test(link)) runQuietSync('ip', ['link', 'del', link]);
  if (listLinks().includes(BRIDGE)) runQuietSync('ip', ['link', 'del', BRIDGE]);
  rmSync(VPI_ROOT, { recursive: true, force: true });
}

function listLinks(): string[] {
  try {
    return readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}
