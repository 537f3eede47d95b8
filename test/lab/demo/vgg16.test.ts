// VGG16 end to end with a few frames: vgg16-9 (8 node processes: conv blocks split over 3 stages,
// block234 data-parallel, fc1 model-parallel halves). Also the memory bound of an fc1 half.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presetStages, runDemo } from '../../../src/lab/local-demo.js';

test('vgg16-9 streams frames through local processes and matches the whole model', async () => {
  const { model, stages } = presetStages('vgg16-9');
  const r = await runDemo({ model, name: 'vgg16-9', stages, engine: 'onnx', frames: 6, warmup: 1, samples: 2, log: () => {} });
  assert.equal(r.completed, 6);
  assert.equal(r.dropped, 0);
  assert.ok(r.check.ok, `max abs diff ${r.check.maxAbsDiff}`);
  assert.equal(r.check.compared, 2);
  const fc1 = r.stages.find((s) => s.role === 'fc1')!;
  assert.equal(fc1.shards, 2);
  // Half of VGG16's 411 MB fc1 plus the runtime: must fit a 1 GB Pi next to the OS.
  assert.ok(fc1.rssMb! < 500, `fc1 shard rss ${fc1.rssMb!.toFixed(0)} MB (load peak ${(fc1.peakRssMb ?? NaN).toFixed(0)} MB)`);
  assert.equal(r.stages.find((s) => s.role === 'block234')!.replicas, 3);
});
