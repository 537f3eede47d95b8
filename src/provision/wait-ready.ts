// The start and restart steps wait until every node they started is ready (block loaded, known
// answer given), or report the first that failed, in words a Pi owner can act on: the host, its CPU,
// the engine build, what happened, and what to do.
import { defaultBuild, describeCpu, type EngineBuild } from '../engine/builds.js';
import { hostBuild } from './host-engine.js';
import { lastLogLines, readiness, type NodeReadiness } from './readiness.js';
import { ProvisionError, type StepContext } from './types.js';

/** Long enough for a VGG16 fc1 half to load on a Pi 3; the inventory's hosts may be slower (emulated). */
export const DEFAULT_READY_TIMEOUT_MS = 300_000;

/** What a signal means for an engine that was loading: [what it did, what the signal says]. */
const SIGNAL_WORDS: Record<string, [string, string]> = {
  SIGILL: ['stops on an illegal instruction', 'SIGILL: the build uses an instruction this CPU lacks'],
  SIGSEGV: ['crashes', 'SIGSEGV, segmentation fault'],
  SIGBUS: ['crashes', 'SIGBUS'],
  SIGABRT: ['aborts', 'SIGABRT'],
  SIGKILL: ['was killed', 'SIGKILL: out of memory under the unit\'s MemoryMax?'],
};

function buildName(b: EngineBuild): string {
  return b.engine === 'tfjs' ? 'tfjs' : b.id.replace('@', ' ');
}

/** One sentence: what went wrong with `n` on this host, and what to do. */
export function describeFailure(ctx: Pick<StepContext, 'host' | 'facts' | 'plan'>, n: NodeReadiness, log: string[]): string {
  const build = hostBuild(ctx);
  const usual = defaultBuild(ctx.facts.cpu);
  const who = `${ctx.host.name} (${describeCpu(ctx.facts.cpu)})`;
  const [verb, note] = n.signal ? SIGNAL_WORDS[n.signal] ?? ['dies', n.signal] : ['', ''];
  const what = n.signal
    ? `${buildName(build)} ${verb} while loading ${n.instance} (${note})`
    : n.exitCode === 5
      ? `${buildName(build)} gives a wrong known answer for ${n.instance}`
      : `node ${n.instance} exited (${n.unit})`;
  const todo = build.id !== usual.id
    ? `pifarm uses ${buildName(usual)} here unless the inventory forces another engine`
    : n.signal || n.exitCode === 5
      ? `pifarm chose ${buildName(build)} for this CPU: give the host another (engine: tfjs runs everywhere)`
      : `see pifarm logs --limit ${ctx.host.name}`;
  const tail = log.length ? `; the node said: ${log.join(' | ')}` : '';
  return `${who}: ${what}; ${todo}${tail}`;
}

/**
 * Waits for `instances` to be ready; throws ProvisionError naming the first failure or the wait,
 * or the signal's reason once it aborts (a live move whose device was lost meanwhile).
 */
export async function waitReady(ctx: StepContext, instances: string[], signal?: AbortSignal): Promise<NodeReadiness[]> {
  const timeoutMs = ctx.plan.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (let delay = 200; ; delay = Math.min(2000, delay * 1.5)) {
    if (signal?.aborted) throw new ProvisionError(`${ctx.host.name}: ${String(signal.reason)}`);
    const states = await readiness(ctx.t, instances);
    const failed = states.find((s) => s.state === 'failed' || s.state === 'stopped');
    if (failed) throw new ProvisionError(describeFailure(ctx, failed, await lastLogLines(ctx.t, failed.instance)));
    const waiting = states.filter((s) => s.state !== 'ready');
    if (waiting.length === 0) return states;
    if (Date.now() >= deadline) {
      throw new ProvisionError(`${ctx.host.name}: ${waiting.map((s) => s.instance).join(', ')} not ready after ${Math.round(timeoutMs / 1000)} s (${waiting.map((s) => s.unit).join(', ')}); a slow host needs a longer --load-timeout`);
    }
    ctx.log(`waiting for ${waiting.map((s) => s.instance).join(', ')} to load and give the known answer`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
