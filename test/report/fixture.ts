// A synthetic but self-consistent run of alexnet-5 (block1 -> fc1 x2 shards -> fc2): frames go
// through a simulated pipeline, so the timeline, latencies and IPS agree with each other.
import type { FrameRecord, RunResult, StageTrace } from '../../src/report/types.js';

export function syntheticRun(frames = 40, runId = 'test-run-1'): RunResult {
  const stages = [
    { role: 'block1', hosts: ['vpi1'], ms: 180, shards: 1 },
    { role: 'fc1', hosts: ['vpi2', 'vpi3'], ms: 90, shards: 2 },
    { role: 'fc2', hosts: ['vpi4'], ms: 40, shards: 1 },
  ];
  const free = new Map<string, number>();
  const timeline: FrameRecord[] = [];
  for (let id = 0; id < frames; id++) {
    const sentAt = id * 200;
    let ready = sentAt + 2;
    const trace: StageTrace[] = [];
    for (const s of stages) {
      let done = 0;
      s.hosts.forEach((host, shard) => {
        const jitter = ((id * 7 + shard * 13) % 11) - 5;
        const start = Math.max(ready, free.get(host) ?? 0);
        const end = start + s.ms + jitter;
        free.set(host, end);
        trace.push({ role: s.role, host, replica: 0, shard: s.shards > 1 ? shard : 0, arrival: ready, start, end });
        done = Math.max(done, end);
      });
      ready = done + 2;
    }
    timeline.push({ id, sentAt, doneAt: id === 5 ? undefined : ready, trace: id === 5 ? trace.slice(0, 1) : trace });
  }
  const lat = timeline.filter((f) => f.doneAt !== undefined).map((f) => f.doneAt! - f.sentAt).sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!;
  const end = Math.max(...timeline.map((f) => f.doneAt ?? 0));
  return {
    runId,
    startedAt: '2026-11-26T20:00:00.000Z',
    kind: 'bench',
    model: 'alexnet',
    preset: 'alexnet-5',
    engine: 'onnx',
    devices: 5,
    frames,
    completed: frames - 1,
    dropped: 1,
    dropReasons: { timeout: 1 },
    ips: (frames - 1) / (end / 1000),
    latencyMs: { p50: q(50), p95: q(95), p99: q(99) },
    stages: stages.map((s) => ({ role: s.role, replicas: 1, shards: s.shards, hosts: s.hosts, serviceMs: s.ms, utilization: s.ms / 200, queueMs: 3 })),
    bottleneck: 'block1',
    predicted: { ips: 5.4, bottleneck: 'block1', ratio: (frames - 1) / (end / 1000) / 5.4 },
    emulation: { profile: 'pi3', gflops: 4.2, bandwidthMbit: 300, latencyMs: 3, lossPct: 0 },
    energy: { staticJ: 1.33, dynamicJ: 1.6, totalJ: 2.93 },
    timeline,
  };
}
