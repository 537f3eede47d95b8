import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMisses, modelMisses } from '../../src/report/model-check.js';
import type { RunResult, StageResult } from '../../src/report/types.js';

function run(stages: StageResult[]): RunResult {
  return { runId: 'r', startedAt: '2026-11-26T00:00:00Z', kind: 'bench', model: 'alexnet', preset: 'alexnet-5', engine: 'onnx', devices: 5, frames: 10, completed: 10, dropped: 0, ips: 4, latencyMs: { p50: 1, p95: 1, p99: 1 }, stages } as RunResult;
}

test('model check: names the stages off by more than 25%, the limiting one marked, worst first', () => {
  const r = run([
    { role: 'block1', replicas: 1, shards: 1, serviceMs: 150, utilization: 0.9, predictedComputeMs: 200, predictedServiceMs: 215, cpuMsPerFrame: 9, deviceMsPerFrame: 200 },
    { role: 'fc1', replicas: 1, shards: 2, serviceMs: 5, utilization: 0.1, predictedComputeMs: 100, predictedServiceMs: 110, cpuMsPerFrame: 4, deviceMsPerFrame: 150 },
    { role: 'fc2', replicas: 1, shards: 1, serviceMs: 300, utilization: 0.99, predictedComputeMs: 150, predictedServiceMs: 160, cpuMsPerFrame: 8, deviceMsPerFrame: 320 },
  ]);
  const misses = modelMisses(r);
  // block1 is within 25% on device time (200 vs 215) although its compute time alone is not
  assert.deepEqual(misses.map((m) => m.role), ['fc2', 'fc1']);
  assert.equal(misses[0]!.limits, true);
  assert.equal(misses[1]!.limits, false);
  assert.match(describeMisses(r)[0]!, /the model got fc2 wrong: predicted 160 ms per frame on the emulated device, measured 320 ms \(x2\.00\); it is the stage that limits the measured IPS/);
});

test('model check: without emulation it compares compute times; without a prediction it says nothing', () => {
  const r = run([{ role: 'fc2', replicas: 1, shards: 1, serviceMs: 100, utilization: 0.5, predictedComputeMs: 50 }]);
  assert.match(describeMisses(r)[0]!, /predicted 50 ms of compute per frame, measured 100 ms/);
  assert.deepEqual(modelMisses(run([{ role: 'fc2', replicas: 1, shards: 1, serviceMs: 100, utilization: 0.5 }])), []);
});
