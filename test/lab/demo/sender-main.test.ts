// The sender as a program (how it runs on a Pi): a config file in, the JSON report out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchLocalFarm } from '../../../src/lab/local-launch.js';
import { presetStages } from '../../../src/lab/local-demo.js';
import type { SenderConfig } from '../../../src/runtime/sender-main.js';

test('sender-main streams a preset and prints a JSON report with the sampled outputs', async () => {
  const { model, stages } = presetStages('alexnet-5');
  const farm = await launchLocalFarm({ model, stages, engine: 'onnx', seed: 2018 });
  try {
    const cfg: SenderConfig = {
      model, first: farm.first, lastShards: farm.lastShards, listen: { host: '127.0.0.1', port: farm.senderPort },
      frames: 10, warmup: 2, window: 4, seed: 1, balance: 'round-robin', sampleIds: [3],
      maxMessageBytes: farm.maxMessageBytes, mergeTimeoutMs: 5000, mergeCapacity: 64,
    };
    const file = join(mkdtempSync(join(tmpdir(), 'pifarm-test-')), 'sender.json');
    writeFileSync(file, JSON.stringify(cfg));
    const main = fileURLToPath(new URL('../../../src/runtime/sender-main.js', import.meta.url));
    const child = spawn(process.execPath, [main, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as { completed: number; dropped: number; ips: number; samples: { id: number; output: number[] }[] };
    assert.equal(r.completed, 10);
    assert.equal(r.dropped, 0);
    assert.ok(r.ips > 0);
    assert.equal(r.samples.length, 1);
    assert.equal(r.samples[0]!.id, 3);
    assert.equal(r.samples[0]!.output.length, 1000);
    assert.ok(Math.abs(r.samples[0]!.output.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'softmax scores sum to 1');
  } finally {
    await farm.stop();
  }
});
