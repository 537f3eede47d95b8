// /metrics in the Prometheus text format (prom-client), read from the live state when scraped, so
// a farm can be watched from an existing Prometheus/Grafana.
import { Gauge, Registry } from 'prom-client';
import type { LiveState } from './state.js';

export function liveMetrics(state: LiveState): Registry {
  const registry = new Registry();
  const labels = { model: state.model };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect(this: Gauge) { this.reset(); collect(this); } });
  gauge('pifarm_frames_completed', 'frames that came back from the last stage', ['model'], (g) => g.set(labels, state.completed));
  gauge('pifarm_frames_offered', 'frames the sender sent into the farm', ['model'], (g) => g.set(labels, state.offered));
  gauge('pifarm_frames_dropped', 'frames not completed, by reason (skipped: a live source was faster than the farm; lost: no result in time; the rest: counted where a node dropped them)', ['model', 'reason'], (g) => {
    const snap = state.snapshot();
    g.set({ ...labels, reason: 'skipped' }, snap.skipped);
    g.set({ ...labels, reason: 'lost' }, snap.lost);
    const sum = (k: keyof (typeof snap.nodes)[number]['drops']) => snap.nodes.reduce((a, n) => a + n.drops[k], 0);
    g.set({ ...labels, reason: 'refused' }, sum('refused'));
    g.set({ ...labels, reason: 'queue_full' }, sum('queueFull'));
    g.set({ ...labels, reason: 'missing_shard' }, sum('missingShard'));
    g.set({ ...labels, reason: 'not_sent' }, sum('notSent'));
  });
  gauge('pifarm_ips', 'completed frames per second over the last 5 s', ['model'], (g) => g.set(labels, state.snapshot().ips));
  gauge('pifarm_stage_service_ms', 'mean compute time per frame of a stage\'s live processes', ['model', 'stage'], (g) => {
    for (const s of state.snapshot().stages) if (s.serviceMs !== null) g.set({ ...labels, stage: s.role }, s.serviceMs);
  });
  gauge('pifarm_node_queue_depth', 'frames waiting for compute in a node process', ['model', 'node', 'host'], (g) => {
    for (const n of state.snapshot().nodes) g.set({ ...labels, node: n.name, host: n.host }, n.queued);
  });
  gauge('pifarm_node_up', '1 when the node process answers and is ready, 0 when not', ['model', 'node', 'host'], (g) => {
    for (const n of state.snapshot().nodes) g.set({ ...labels, node: n.name, host: n.host }, n.up ? 1 : 0);
  });
  return registry;
}
