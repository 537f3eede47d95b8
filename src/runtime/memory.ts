// Returning the memory of a block load to the OS. Building a block's graph holds the weights twice
// (our bytes and the engine's copy); once the engine has its copy, ours is garbage, but an idle
// node allocates nothing, so V8 would keep the dead buffers (200 MB for a VGG16 fc1 half) until
// some later GC. One full GC right after the load brings the steady RSS down to what the engine
// holds, which is what a 1 GB Pi has to fit.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readFileSync } from 'node:fs';

let gc: (() => void) | null = null;

export function collectGarbage(): void {
  if (!gc) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gc = g;
    else {
      // Works without --expose-gc on the command line (Node 18+): the flag applies to new contexts.
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
}

/**
 * The process's peak resident memory: the kernel's high-water mark (VmHWM) where /proc exists
 * (Linux, every Pi), which catches the short peak of a block load that sampling misses; else the
 * largest sampled value.
 */
export function peakRssBytes(sampled: number): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.max(sampled, Number(m[1]) * 1024);
  } catch {
    /* not Linux: the sampled value */
  }
  return sampled;
}
