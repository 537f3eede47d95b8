// What the live view shows, kept as frames complete and as the nodes answer: the latest frame and
// its classes, IPS and latency over the last seconds, per stage utilisation and queue, per node
// up or down, and the counts of frames offered, skipped and lost.
import type { FrameResult } from '../runtime/sender.js';
import type { NodeStats } from '../runtime/protocol.js';
import { topK, type TopClass } from '../model/imported.js';

const WINDOW_MS = 5000;

export interface NodeView {
  name: string;
  role: string;
  host: string;
  up: boolean;
  queued: number;
  computed: number;
  /** ms of compute per frame since the previous poll */
  serviceMs?: number;
  /** busy fraction since the previous poll */
  utilization?: number;
  drops: { refused: number; queueFull: number; missingShard: number; notSent: number };
}

export interface LiveSnapshot {
  model: string;
  topology: string;
  at: number;
  completed: number;
  offered: number;
  skipped: number;
  lost: number;
  ips: number;
  latencyMs: { p50: number; last: number } | null;
  latest: { frame: number; name: string; classes: TopClass[] } | null;
  stages: { role: string; utilization: number; queued: number; serviceMs: number | null; up: number; of: number }[];
  nodes: NodeView[];
  /** live moves so far, one line each */
  moves: string[];
}

export class LiveState {
  completed = 0;
  offered = 0;
  skipped = 0;
  lost = 0;
  latestInput: { bytes: Uint8Array; frame: number } | undefined;
  readonly moves: string[] = [];
  private readonly done: { at: number; latency: number }[] = [];
  private latest: LiveSnapshot['latest'] = null;
  private readonly nodes = new Map<string, NodeView & { last?: { busyMs: number; computed: number; at: number } }>();

  constructor(
    readonly model: string,
    /** changes with a live move */
    public topology: string,
    readonly shape: [number, number, number],
    private readonly labels?: string[],
  ) {}

  onResult(r: FrameResult): void {
    const now = Date.now();
    this.completed++;
    this.done.push({ at: now, latency: r.latencyMs });
    while (this.done.length && this.done[0]!.at < now - WINDOW_MS) this.done.shift();
    this.latest = { frame: r.id, name: r.name, classes: topK(r.output, 5, this.labels) };
    if (r.input) this.latestInput = { bytes: r.input, frame: r.id };
  }

  /** A live move: the old topology's nodes are gone from the view. */
  forgetNodes(): void {
    this.nodes.clear();
  }

  node(name: string, role: string, host: string, s: NodeStats | undefined): void {
    const prev = this.nodes.get(name);
    const now = Date.now();
    if (!s) {
      this.nodes.set(name, { ...(prev ?? { name, role, host, queued: 0, computed: 0, drops: { refused: 0, queueFull: 0, missingShard: 0, notSent: 0 } }), up: false });
      return;
    }
    const v: NodeView & { last?: { busyMs: number; computed: number; at: number } } = {
      name, role, host, up: s.ready, queued: s.queued, computed: s.computed,
      drops: { refused: s.refused, queueFull: s.queueDropped, missingShard: s.mergeDropped, notSent: s.sendFailed },
      last: { busyMs: s.busyMs, computed: s.computed, at: now },
    };
    if (prev?.last && s.computed > prev.last.computed) v.serviceMs = (s.busyMs - prev.last.busyMs) / (s.computed - prev.last.computed);
    if (prev?.last && now > prev.last.at) v.utilization = Math.min(1, (s.busyMs - prev.last.busyMs) / (now - prev.last.at));
    this.nodes.set(name, v);
  }

  snapshot(): LiveSnapshot {
    const now = Date.now();
    const recent = this.done.filter((d) => d.at >= now - WINDOW_MS);
    const span = recent.length > 1 ? (recent[recent.length - 1]!.at - recent[0]!.at) / 1000 : 0;
    const lat = recent.map((d) => d.latency).sort((a, b) => a - b);
    const nodes = [...this.nodes.values()].map(({ last: _last, ...n }) => n);
    const roles = [...new Set(nodes.map((n) => n.role))];
    return {
      model: this.model,
      topology: this.topology,
      at: now,
      completed: this.completed,
      offered: this.offered,
      skipped: this.skipped,
      lost: this.lost,
      ips: span > 0 ? (recent.length - 1) / span : 0,
      latencyMs: lat.length ? { p50: lat[Math.floor(lat.length / 2)]!, last: this.done[this.done.length - 1]!.latency } : null,
      latest: this.latest,
      stages: roles.map((role) => {
        const mine = nodes.filter((n) => n.role === role);
        const up = mine.filter((n) => n.up);
        const svc = up.map((n) => n.serviceMs).filter((x): x is number => x !== undefined);
        return { role, utilization: up.length ? up.reduce((a, n) => a + (n.utilization ?? 0), 0) / up.length : 0, queued: mine.reduce((a, n) => a + n.queued, 0), serviceMs: svc.length ? svc.reduce((a, x) => a + x, 0) / svc.length : null, up: up.length, of: mine.length };
      }),
      nodes,
      moves: this.moves.slice(-10),
    };
  }
}
