// Returning the memory of a block load to the OS. Building a block's graph holds the weights twice
// (our bytes and the engine's copy); once the engine has its copy, ours is garbage, but an idle
// node allocates nothing, so V8 would keep the dead buffers (200 MB for a VGG16 fc1 half) until
// some later GC. One full GC right after the load brings the steady RSS down to what the engine
// holds, which is what a 1 GB Pi has to fit.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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
