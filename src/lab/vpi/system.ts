// Small wrappers over the system commands the virtual-Pi harness runs (ip, mount, nsenter...).
// Async for the normal path (tests keep their event loop alive); sync for cleanup in exit handlers.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

export class HarnessError extends Error {}

/** Runs a command; rejects with its stderr when it fails. */
export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new HarnessError(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command and ignores failure: cleanup must go on whatever is left. */
export function runQuietSync(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A blocking sleep for the synchronous teardown (exit handlers cannot await). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A pid written in a file (a lock, nspawn's pid file), or undefined when absent or not a pid. */
export function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The direct children of a process (the container's init is the only child of systemd-nspawn). */
export function childPids(pid: number): number[] {
  const f = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Every mount point at or below `prefix`, deepest first (so they unmount in order). */
export function mountsUnder(prefix: string): string[] {
  const lines = readFileSync('/proc/self/mounts', 'utf8').split('\n');
  const points = lines
    .map((l) => l.split(' ')[1] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === prefix || p.startsWith(prefix + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Processes whose command line mentions `needle` (to find nspawns of a crashed earlier run). */
export function pidsWithCmdline(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.startsWith('systemd-nspawn') || cmdline.includes('/systemd-nspawn ')) {
        if (cmdline.includes(needle)) out.push(Number(entry));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
