// One set of virtual Pis per machine: whoever holds /run/pifarm-vpi.owner (its pid inside) owns
// them. Taken with an exclusive create, so two test processes starting together cannot both clean
// up and start; a lock whose process is gone is stale and taken over (a crashed run).
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { pidAlive, readPid, sleep } from './system.js';

export const LOCK_FILE = '/run/pifarm-vpi.owner';

/** The pid of the live process holding the lock, if any. */
export function liveOwner(): number | undefined {
  const pid = readPid(LOCK_FILE);
  return pid !== undefined && pidAlive(pid) ? pid : undefined;
}

function tryCreate(): boolean {
  try {
    const fd = openSync(LOCK_FILE, 'wx', 0o644);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Takes the lock, waiting up to `waitMs` for a live owner; returns false when it could not. */
export async function acquireLock(waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate()) return true;
    let pid = readPid(LOCK_FILE);
    if (pid === undefined) {
      // created an instant ago, its pid not written yet: look again before calling it stale
      await sleep(200);
      pid = readPid(LOCK_FILE);
    }
    if (pid === process.pid) return true;
    if (pid === undefined || !pidAlive(pid)) {
      // stale: move it aside atomically (only one process can), then try again
      const aside = `${LOCK_FILE}.stale.${process.pid}`;
      try {
        renameSync(LOCK_FILE, aside);
        const moved = readPid(aside);
        if (moved !== undefined && moved !== pid && pidAlive(moved)) renameSync(aside, LOCK_FILE); // someone took it meanwhile
        else rmSync(aside, { force: true });
      } catch {
        /* another process moved it first */
      }
      continue;
    }
    if (Date.now() >= deadline) return false;
    await sleep(1000);
  }
}

/** Gives the lock up if this process holds it (or `force`: whoever does, for `down` by hand). */
export function releaseLock(force = false): void {
  if (force || readPid(LOCK_FILE) === process.pid) rmSync(LOCK_FILE, { force: true });
}
