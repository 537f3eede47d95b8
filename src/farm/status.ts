// `pifarm status`: per host, each node unit's state and restarts, the current release, and whether
// the node's port answers from the control machine.
import { currentRelease } from '../provision/code-sync.js';
import { readiness, type NodeReadiness } from '../provision/readiness.js';
import { readHealth, type Health } from '../provision/health.js';
import { hostBuild } from '../provision/host-engine.js';
import { describeCpu } from '../engine/builds.js';
import type { StepResult } from '../provision/types.js';
import { portAnswers } from './probe.js';
import type { HostSession } from './session.js';

export interface NodeStatus {
  instance: string;
  active: string;
  sub: string;
  restarts: number;
  mainPid: number;
  port: number;
  answers: boolean;
  /** the engine the node really runs (from its ready.json), e.g. "onnxruntime-node 1.30.0 cpu" */
  engine?: string;
  /** the known-answer frame's result as the node logged it */
  knownAnswer?: string;
  /** why a failed node failed, e.g. "SIGILL", "exit 5" */
  reason?: string;
}

export interface HostStatus {
  host: string;
  address: string;
  release?: string;
  previous?: string;
  nodes: NodeStatus[];
  /** the host's CPU, e.g. "Cortex-A72, ARMv8.0", and the engine build pifarm chooses for it */
  cpu?: string;
  engineBuild?: string;
  /** temperature, throttling, frequency, load, memory, disk, clock, uptime, and warnings in words */
  health?: Health;
  /** why the host could not be asked (SSH failed: powered off, off the network) */
  down?: string;
}

/** A host that could not be reached: its nodes are listed as down, with the reason. */
export function unreachableStatus(s: HostSession, why: string): HostStatus {
  return {
    host: s.host.name,
    address: s.host.address,
    down: why,
    nodes: s.plan.nodes.map((n) => ({ instance: n.instance, active: 'unreachable', sub: 'host down', restarts: 0, mainPid: 0, port: n.config.listen.port, answers: false })),
  };
}

function readyFields(r: NodeReadiness | undefined): Partial<NodeStatus> {
  if (!r) return {};
  const out: Partial<NodeStatus> = {};
  if (r.ready) {
    out.engine = r.ready.engine;
    if (r.ready.knownAnswer) out.knownAnswer = r.ready.knownAnswer;
  }
  if (r.state === 'failed') out.reason = r.signal ?? (r.exitCode !== undefined ? `exit ${r.exitCode}` : r.unit);
  if (r.gaveUp) out.reason = `${out.reason ?? 'failed'}; systemd gave up restarting it`;
  return out;
}

export async function hostStatus(s: HostSession, out: HostStatus[]): Promise<StepResult[]> {
  const t0 = Date.now();
  const rel = await currentRelease({ t: s.t });
  const want = s.plan.nodes;
  // one systemctl show per unit gives both its state and its readiness
  const ready = new Map((await readiness(s.t, want.map((n) => n.instance))).map((r) => [r.instance, r]));
  const nodes: NodeStatus[] = await Promise.all(
    want.map(async (n) => {
      const st = ready.get(n.instance);
      return {
        instance: n.instance,
        active: st?.active ?? 'unknown',
        sub: st?.sub ?? 'unknown',
        restarts: st?.restarts ?? 0,
        mainPid: st?.mainPid ?? 0,
        port: n.config.listen.port,
        answers: await portAnswers(s.host.address, n.config.listen.port),
        ...readyFields(st),
      };
    }),
  );
  const hs: HostStatus = { host: s.host.name, address: s.host.address, nodes, health: await readHealth(s.t, s.host.name) };
  const facts = s.knownFacts;
  if (facts) {
    hs.cpu = describeCpu(facts.cpu);
    try {
      hs.engineBuild = hostBuild({ host: s.host, facts, plan: s.plan }).id;
    } catch (e) {
      hs.engineBuild = `none: ${(e as Error).message}`;
    }
  }
  if (rel.current) hs.release = rel.current;
  if (rel.previous) hs.previous = rel.previous;
  out.push(hs);
  const bad = nodes.filter((n) => n.active !== 'active' || !n.answers);
  const detail = nodes.length === 0 ? `no node here; release ${rel.current ?? 'none'}` : `${nodes.length - bad.length}/${nodes.length} node(s) running and answering; release ${rel.current ?? 'none'}`;
  return [{ step: 'status', status: bad.length ? 'failed' : 'ok', detail, ms: Date.now() - t0 }];
}
