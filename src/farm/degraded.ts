// `pifarm run` with some nodes down: the run goes ahead as long as every stage keeps at least one
// complete replica (all its shards answering): the runtime's failover sends only to live replicas
// and uses a returning one again. A stage with no complete replica left cannot compute its part
// of the model, so the run is refused, naming the stage and the hosts that are down.
import type { Placement } from '../topology/types.js';
import { processName } from '../runtime/process-name.js';
import { portAnswers } from './probe.js';

export interface NodeEndpoint extends Placement {
  /** the address the control machine reaches it at */
  address: string;
}

export interface Coverage {
  /** every stage has a complete replica */
  runnable: boolean;
  /** per stage: complete replicas answering, of how many */
  stages: { role: string; live: number; replicas: number }[];
}

/** Which stages still have a complete replica when the endpoints in `down` do not answer. */
export function coverage(nodes: NodeEndpoint[], down: ReadonlySet<NodeEndpoint>): Coverage {
  const byStage = new Map<number, { role: string; groups: Map<number, boolean> }>();
  for (const n of nodes) {
    const st = byStage.get(n.stageIndex) ?? { role: n.role, groups: new Map<number, boolean>() };
    st.groups.set(n.replica, (st.groups.get(n.replica) ?? true) && !down.has(n));
    byStage.set(n.stageIndex, st);
  }
  const stages = [...byStage.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, s]) => ({ role: s.role, live: [...s.groups.values()].filter(Boolean).length, replicas: s.groups.size }));
  return { runnable: stages.every((s) => s.live > 0), stages };
}

export class FarmDownError extends Error {}

/**
 * Waits until every node answers, or until the farm is runnable and `graceMs` more have passed;
 * returns the nodes still down (the run goes ahead without them). Throws FarmDownError when,
 * after `timeoutMs`, a stage has no complete replica.
 */
export async function waitForFarm(nodes: NodeEndpoint[], timeoutMs: number, graceMs: number, log: (m: string) => void): Promise<NodeEndpoint[]> {
  const deadline = Date.now() + timeoutMs;
  let runnableSince = Infinity;
  let down = new Set(nodes);
  for (;;) {
    const ok = await Promise.all([...down].map((n) => portAnswers(n.address, n.port)));
    down = new Set([...down].filter((_, i) => !ok[i]));
    if (down.size === 0) return [];
    const c = coverage(nodes, down);
    const now = Date.now();
    if (c.runnable) runnableSince = Math.min(runnableSince, now);
    if (c.runnable && (now - runnableSince >= graceMs || now >= deadline)) {
      const missing = [...down];
      const degraded = c.stages.filter((s) => s.live < s.replicas).map((s) => `${s.role} ${s.live}/${s.replicas} replicas`);
      const shards = (role: string) => 1 + Math.max(...nodes.filter((x) => x.role === role).map((x) => x.shard));
      log(`running without ${missing.map((n) => `${processName(n, shards(n.role))} on ${n.host} (${n.address}:${n.port})`).join(', ')}: not answering; ${degraded.join(', ')}`);
      return missing;
    }
    if (now >= deadline) {
      const dead = c.stages.filter((s) => s.live === 0).map((s) => s.role);
      const hosts = [...new Set([...down].map((n) => n.host))];
      throw new FarmDownError(`stage(s) ${dead.join(', ')} have no complete replica answering after ${timeoutMs / 1000} s (down: ${hosts.join(', ')}); see pifarm status and pifarm logs, or bring the host(s) back`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
