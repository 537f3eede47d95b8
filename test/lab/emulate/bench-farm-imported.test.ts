// `pifarm bench farm` on an imported model, through the CLI: the exact plan over its cut points for
// an emulated Pi whose RAM cannot hold its 67 MB dense layer whole, run as local processes in
// CPU-quota and memory cgroups. Not a benchmark: the figures are only checked for consistency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli-run.js';
import { importOnnx } from '../../../src/engine/import-onnx.js';
import { wideDense } from '../../engine/onnx-fixtures.js';

test('bench farm --model IMPORTED --plan: the dense layer sharded for a small emulated Pi, every frame through, stretched by the quotas', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pfem-bench-imported-'));
  try {
    writeFileSync(join(dir, 'wide.onnx'), wideDense());
    const models = join(dir, 'models');
    await importOnnx(join(dir, 'wide.onnx'), { modelsDir: models });
    // 604 MB less 324 for the OS: 280 MB per process, too little for fc6's 67 MB of initializers whole
    const r = await cli(['bench', 'farm', '--model', 'wide', '--models', models, '--plan', '--devices', '6', '--emulate', 'pi3', '--ram', '604', '--frames', '12', '--warmup', '2', '--json', '--out', join(dir, 'reports')]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    t.diagnostic(`IPS ${j.ips.toFixed(2)}, predicted ${j.predicted.ips.toFixed(2)}, quotas ${j.emulated.quotaCores.map((q: number) => (q * 100).toFixed(2)).join('/')}% of a core`);
    assert.equal(j.model, 'wide');
    assert.equal(j.completed, 12);
    // a stage's layers read FROM..TO (two cut points)
    assert.deepEqual(j.stages.map((s: { layers: string }) => s.layers), ['data_0..flatten', 'flatten..fc6', 'fc6..prob']);
    assert.ok(j.stages[1].shards >= 2, 'fc6 split for the memory');
    assert.equal(j.devices, 6);
    for (const s of j.stages as Record<string, number>[]) {
      assert.ok(s.cpuMsPerFrame! > 0 && s.deviceMsPerFrame! > s.cpuMsPerFrame!, `${s.role}: the device time per frame is the CPU time here stretched by the quota`);
      assert.ok(s.predictedServiceMs! > 0, `${s.role}: the model's time is in the result`);
    }
    assert.ok(j.predicted.ips > 0 && Math.abs(j.predicted.ratio - j.ips / j.predicted.ips) < 1e-9);
    assert.ok(j.bytesPerFrame > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
