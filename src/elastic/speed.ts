// How fast each device runs now against when its topology started: per node, the compute time per
// frame over windows of at least WINDOW_MS (from its own counters), its first windows as the
// baseline. A device whose time per frame has moved off its baseline by more than a factor (the
// policy's slowFactor) has a new speed: the planned one times baseline / now. A node is compared
// only with itself, since this machine's conv/dense speed ratio is not a Pi's.
import type { NodeStats } from '../runtime/protocol.js';

const WINDOW_MS = 1000;
const MIN_FRAMES = 3;
const BASELINE_WINDOWS = 3;
/** the latest windows whose median is "now" */
const RECENT = 3;

interface NodeSeries {
  last?: { at: number; busyMs: number; computed: number };
  windows: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export class SpeedMeter {
  private readonly nodes = new Map<string, NodeSeries>();

  /** A node's counters as probed, at time `at` (ms). */
  observe(node: string, s: Pick<NodeStats, 'busyMs' | 'computed'>, at: number): void {
    const n = this.nodes.get(node) ?? { windows: [] };
    this.nodes.set(node, n);
    if (!n.last || s.computed < n.last.computed) {
      n.last = { at, busyMs: s.busyMs, computed: s.computed };
      return;
    }
    const frames = s.computed - n.last.computed;
    if (at - n.last.at < WINDOW_MS || frames < MIN_FRAMES) return;
    n.windows.push((s.busyMs - n.last.busyMs) / frames);
    if (n.windows.length > BASELINE_WINDOWS + 20) n.windows.splice(BASELINE_WINDOWS, 1);
    n.last = { at, busyMs: s.busyMs, computed: s.computed };
  }

  /** now / baseline time per frame of a node; undefined until it has both. */
  slowdown(node: string): number | undefined {
    const w = this.nodes.get(node)?.windows ?? [];
    if (w.length < BASELINE_WINDOWS + RECENT) return undefined;
    return median(w.slice(-RECENT)) / median(w.slice(0, BASELINE_WINDOWS));
  }

  /** A new topology: every node starts again. */
  reset(): void {
    this.nodes.clear();
  }
}
