// Resource limits for an emulated Pi on this machine: one cgroup per emulated host, holding a CPU
// quota (how much of one core the host's processes may use per period) and a memory limit (so a
// stage that does not fit a Pi fails as it would there). cgroup v2 when /sys/fs/cgroup is the
// unified hierarchy with the cpu controller, else the v1 cpu and memory controllers.
// v1 groups are created *under this process's own cgroup* of each controller, so a supervisor's
// accounting of this process still covers the emulated hosts.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { shq } from '../../transport/shell.js';
import { join } from 'node:path';

export type CgroupMode = 'v2' | 'v1';

export class CgroupError extends Error {}

export interface CgroupLayout {
  mode: CgroupMode;
  /** where new groups go: the cpu (and for v2 the only) hierarchy */
  cpuBase: string;
  /** v1 memory hierarchy base; same as cpuBase for v2 */
  memoryBase: string;
}

const PARENT = 'pifarm-emu';

/** This process's cgroup path for a v1 controller (or "" for v2), from /proc/self/cgroup. */
function ownPath(controller: string, procCgroup: string): string {
  for (const line of procCgroup.split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls !== undefined && path !== undefined && ctrls.split(',').includes(controller)) return path;
  }
  return '/';
}

/** Which cgroup hierarchy to use, or an error saying what is missing. */
export function detectCgroups(root = '/sys/fs/cgroup', procCgroup = readFileSync('/proc/self/cgroup', 'utf8')): CgroupLayout {
  const controllersFile = join(root, 'cgroup.controllers');
  if (existsSync(controllersFile)) {
    const ctrls = readFileSync(controllersFile, 'utf8').trim().split(/\s+/);
    if (!ctrls.includes('cpu')) throw new CgroupError(`${root} is cgroup v2 but the cpu controller is not available (controllers: ${ctrls.join(' ') || 'none'})`);
    return { mode: 'v2', cpuBase: join(root, PARENT), memoryBase: join(root, PARENT) };
  }
  if (existsSync(join(root, 'cpu', 'cpu.cfs_quota_us'))) {
    const memory = existsSync(join(root, 'memory', 'memory.limit_in_bytes')) ? join(root, 'memory', ownPath('memory', procCgroup), PARENT) : '';
    return { mode: 'v1', cpuBase: join(root, 'cpu', ownPath('cpu', procCgroup), PARENT), memoryBase: memory };
  }
  throw new CgroupError(`no usable cgroup cpu controller under ${root} (neither v2 cgroup.controllers nor v1 cpu/cpu.cfs_quota_us); CPU emulation needs one, and root`);
}

export interface Limits {
  /** CPU time per period as a fraction of one core (0.05 = 5% of a core); absent: no CPU limit */
  cpuCores?: number;
  /** memory limit in MB, swap included; absent: no memory limit */
  memoryMb?: number;
  /** CFS period, default 100 ms */
  periodUs?: number;
}

export interface LimitGroup {
  readonly name: string;
  readonly mode: CgroupMode;
  /** the cgroup.procs files a process must be written to (one per hierarchy) */
  readonly procsFiles: string[];
  addPid(pid: number): void;
  /** sets (or, with undefined, lifts) the CPU quota of a live group */
  setCpuLimit(cpuCores: number | undefined, periodUs?: number): void;
  /** times the quota throttled the group and for how long */
  cpuThrottling(): { periods: number; throttled: number; throttledMs: number };
  /** processes killed for exceeding the memory limit */
  oomKills(): number;
  /** the most memory the group ever held, bytes (undefined without a memory limit or where the kernel keeps none) */
  memoryPeakBytes(): number | undefined;
  /** removes the group; processes in it must have exited */
  remove(): Promise<void>;
}

function write(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (e) {
    throw new CgroupError(`cannot write "${value}" to ${file}: ${(e as Error).message}`);
  }
}

function readNumber(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isFinite(n) ? n : undefined;
}

function readKv(file: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out.set(k, Number(v));
  }
  return out;
}

export function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new CgroupError(`cgroup name "${name}" must be letters, digits, "_", "-", "."`);
}

/** CPU time per period in µs; the kernel's minimum quota is 1 ms. */
function quotaUs(cores: number, periodUs: number): number {
  if (!(cores > 0)) throw new CgroupError(`CPU quota must be > 0 cores, got ${cores}`);
  return Math.max(1000, Math.round(cores * periodUs));
}

/** Creates (or reuses) the group `name` with the given limits. */
export function createLimitGroup(name: string, limits: Limits, layout: CgroupLayout = detectCgroups()): LimitGroup {
  checkName(name);
  const period = limits.periodUs ?? 100_000;
  if (limits.cpuCores !== undefined && !(limits.cpuCores > 0)) throw new CgroupError(`CPU quota must be > 0 cores, got ${limits.cpuCores}`);
  const quota = limits.cpuCores === undefined ? undefined : quotaUs(limits.cpuCores, period);
  const bytes = limits.memoryMb === undefined ? undefined : Math.round(limits.memoryMb * 1024 * 1024);
  if (layout.mode === 'v2') return createV2(name, layout.cpuBase, period, quota, bytes);
  return createV1(name, layout, period, quota, bytes);
}

function createV2(name: string, base: string, period: number, quota: number | undefined, bytes: number | undefined): LimitGroup {
  // v2: controllers must be enabled in every ancestor's subtree_control; the parent group holds
  // no processes itself (the "no internal processes" rule), only the per-host groups.
  mkdirSync(base, { recursive: true });
  write(join(base, '..', 'cgroup.subtree_control'), '+cpu +memory');
  write(join(base, 'cgroup.subtree_control'), '+cpu +memory');
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  write(join(dir, 'cpu.max'), `${quota ?? 'max'} ${period}`);
  write(join(dir, 'memory.max'), bytes === undefined ? 'max' : String(bytes));
  if (existsSync(join(dir, 'memory.swap.max'))) write(join(dir, 'memory.swap.max'), bytes === undefined ? 'max' : '0');
  return {
    name,
    mode: 'v2',
    procsFiles: [join(dir, 'cgroup.procs')],
    addPid: (pid) => write(join(dir, 'cgroup.procs'), String(pid)),
    setCpuLimit(cores, periodUs = period) {
      write(join(dir, 'cpu.max'), `${cores === undefined ? 'max' : quotaUs(cores, periodUs)} ${periodUs}`);
    },
    cpuThrottling() {
      const s = readKv(join(dir, 'cpu.stat'));
      return { periods: s.get('nr_periods') ?? 0, throttled: s.get('nr_throttled') ?? 0, throttledMs: (s.get('throttled_usec') ?? 0) / 1000 };
    },
    oomKills: () => readKv(join(dir, 'memory.events')).get('oom_kill') ?? 0,
    memoryPeakBytes: () => readNumber(join(dir, 'memory.peak')),
    remove: () => removeDirs([dir]),
  };
}

function createV1(name: string, layout: CgroupLayout, period: number, quota: number | undefined, bytes: number | undefined): LimitGroup {
  const cpuDir = join(layout.cpuBase, name);
  mkdirSync(cpuDir, { recursive: true });
  write(join(cpuDir, 'cpu.cfs_period_us'), String(period));
  write(join(cpuDir, 'cpu.cfs_quota_us'), String(quota ?? -1));
  const dirs = [cpuDir];
  let memDir: string | undefined;
  if (bytes !== undefined) {
    if (!layout.memoryBase) throw new CgroupError('a memory limit was asked for but the v1 memory controller is not mounted at /sys/fs/cgroup/memory');
    memDir = join(layout.memoryBase, name);
    mkdirSync(memDir, { recursive: true });
    // memsw (memory + swap) must stay >= memory: lower memory first when shrinking, raise it last when growing.
    const memsw = join(memDir, 'memory.memsw.limit_in_bytes');
    if (existsSync(memsw)) {
      write(memsw, '-1');
      write(join(memDir, 'memory.limit_in_bytes'), String(bytes));
      write(memsw, String(bytes));
    } else {
      write(join(memDir, 'memory.limit_in_bytes'), String(bytes));
    }
    dirs.push(memDir);
  }
  const procsFiles = dirs.map((d) => join(d, 'cgroup.procs'));
  return {
    name,
    mode: 'v1',
    procsFiles,
    addPid: (pid) => procsFiles.forEach((f) => write(f, String(pid))),
    setCpuLimit(cores, periodUs = period) {
      write(join(cpuDir, 'cpu.cfs_quota_us'), '-1'); // the period cannot change under a quota smaller than it allows
      write(join(cpuDir, 'cpu.cfs_period_us'), String(periodUs));
      write(join(cpuDir, 'cpu.cfs_quota_us'), String(cores === undefined ? -1 : quotaUs(cores, periodUs)));
    },
    cpuThrottling() {
      const s = readKv(join(cpuDir, 'cpu.stat'));
      return { periods: s.get('nr_periods') ?? 0, throttled: s.get('nr_throttled') ?? 0, throttledMs: (s.get('throttled_time') ?? 0) / 1e6 };
    },
    oomKills: () => (memDir ? (readKv(join(memDir, 'memory.oom_control')).get('oom_kill') ?? 0) : 0),
    memoryPeakBytes: () => (memDir ? readNumber(join(memDir, 'memory.max_usage_in_bytes')) : undefined),
    remove: () => removeDirs(dirs),
  };
}

/** rmdir each group, waiting briefly for exiting processes to leave it. */
async function removeDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (let i = 0; ; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch (e) {
        if (i >= 40) throw new CgroupError(`cannot remove ${dir}: ${(e as Error).message} (processes still in it: ${readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().replace(/\n/g, ' ')})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // The shared parent goes too once its last group is gone (another run may still use it).
    try {
      rmdirSync(join(dir, '..'));
    } catch {
      /* not empty */
    }
  }
}

/**
 * argv that runs `cmd` inside the group: a shell writes its own pid into the group, then execs the
 * command, so every process of it starts already limited (no window before the limit applies).
 */
export function execInGroup(group: Pick<LimitGroup, 'procsFiles'>, cmd: string[]): string[] {
  const joins = group.procsFiles.map((f) => `echo $$ > ${shq(f)}`).join(' && ');
  return ['/bin/sh', '-c', `${joins} && exec "$@"`, 'pifarm-emu', ...cmd];
}

/**
 * Removes groups left behind by runs that were killed (their processes are gone, the directories
 * stay): empty groups under pifarm-emu/ older than `minAgeMs`, so a run starting right now keeps
 * its fresh, still empty groups. Returns how many were removed.
 */
export function removeStaleGroups(layout: CgroupLayout = detectCgroups(), minAgeMs = 10 * 60_000, match: (name: string) => boolean = () => true): number {
  let removed = 0;
  for (const base of new Set([layout.cpuBase, layout.memoryBase].filter(Boolean))) {
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).filter(match)) {
      const dir = join(base, name);
      try {
        if (!statSync(dir).isDirectory() || Date.now() - statSync(dir).mtimeMs < minAgeMs) continue;
        if (readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '') continue;
        rmdirSync(dir);
        removed++;
      } catch {
        /* not a group, or in use again */
      }
    }
  }
  return removed;
}
