// Limits for a whole host: a virtual Pi (systemd-nspawn) is a tree of processes under its init, and
// its own systemd cannot set CPUQuota= where the host's cgroup v1 controllers are not delegated to
// the container (as on the development machine: units report CPUQuotaPerSecUSec=infinity). So the
// limit is put on the container from outside: every process of the tree moves into one group,
// and what the container starts later inherits it. The whole Pi shares the quota, as on a real Pi.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { LimitGroup } from './cgroup.js';

/** Direct children of every thread of `pid`. */
function children(pid: number): number[] {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return [];
  const out: number[] = [];
  for (const tid of readdirSync(dir)) {
    try {
      out.push(...readFileSync(`${dir}/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* thread exited */
    }
  }
  return out;
}

/** `root` and all its descendants. */
export function processTree(root: number): number[] {
  const seen = new Set<number>();
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    if (seen.has(p) || !existsSync(`/proc/${p}`)) continue;
    seen.add(p);
    todo.push(...children(p));
  }
  return [...seen];
}

/**
 * Moves the tree under `root` into the group, again until a pass finds nothing new (a process
 * forked during a pass is caught by the next). Returns the number of processes moved.
 */
export function limitProcessTree(group: LimitGroup, root: number): number {
  const moved = new Set<number>();
  for (let pass = 0; pass < 10; pass++) {
    const fresh = processTree(root).filter((p) => !moved.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      try {
        group.addPid(p);
        moved.add(p);
      } catch (e) {
        if (existsSync(`/proc/${p}`)) throw e; // a process that exited meanwhile is no error
      }
    }
  }
  if (moved.size === 0) throw new Error(`no process ${root} to limit`);
  return moved.size;
}
