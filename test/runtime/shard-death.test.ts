// A model-parallel shard that dies mid-run (alexnet-5: block1 -> fc1 halves -> fc2, fc1 shard 1
// SIGKILLed): frames that need it are dropped and counted, never merged wrongly. Every completed
// frame went through both halves and its output equals the whole model's; the sender's drops are
// the frames it sent minus those completed, and the nodes account for them (fc2's merge drops a
// frame whose other half never came; block1 counts the frames it could not place).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/engine/index.js';
import { findPreset, loadModelSpec } from '../../src/model/spec.js';
import { DEFAULT_SEED } from '../../src/model/weights.js';
import { askStats, launchLocalFarm, type LocalFarm } from '../../src/lab/local-launch.js';
import { checkOutputs } from '../../src/runtime/reference.js';
import { runSender } from '../../src/runtime/sender.js';
import { waitFor } from '../wait.js';

const preset = findPreset('alexnet-5');
const spec = loadModelSpec(preset.model);
let farm: LocalFarm;

before(async () => {
  farm = await launchLocalFarm({ model: preset.model, stages: preset.stages, engine: 'onnx', threads: 1, seed: DEFAULT_SEED, mergeTimeoutMs: 800 });
});
after(async () => {
  await farm?.stop();
});

test('alexnet-5: an fc1 shard killed mid-run: no frame merged from different ids, the drops add up', async () => {
  const frames = 60;
  const node = (role: string, shard = 0) => farm.nodes.find((n) => n.config.role === role && n.config.shard.index === shard)!;
  let killed = false;
  const logs: string[] = [];
  const run = runSender({
    input: spec.input, first: farm.first, lastShards: farm.lastShards, listen: { host: '127.0.0.1', port: farm.senderPort },
    frames, warmup: 0, window: 8, seed: 3, sampleIds: Array.from({ length: frames }, (_, i) => i), keepTimeline: true,
    maxMessageBytes: farm.maxMessageBytes, frameTimeoutMs: 1500, log: (m) => logs.push(m),
  });
  // killed once it has computed 25 frames (not after a time: the machine's speed varies)
  const killing = waitFor('fc1 shard 1 to compute 25 frames', async () => (await askStats(node('fc1', 1), farm.maxMessageBytes)).computed >= 25, 60_000).then(() => {
    killed = true;
    node('fc1', 1).child.kill('SIGKILL');
  });
  const r = await run;
  await killing;
  assert.ok(killed, 'the shard was killed during the run');
  assert.ok(r.completed >= 20, `only ${r.completed} frames completed before the kill`);
  assert.ok(r.dropped >= 1, 'frames after the kill are dropped');
  assert.equal(r.completed + r.dropped, frames, 'every frame counted once');
  assert.equal(r.duplicates, 0);

  // every completed frame met both halves of fc1, by its own id
  for (const c of r.timeline!) {
    const halves = c.trace.filter((h) => h.role === 'fc1').map((h) => h.shard).sort();
    assert.deepEqual(halves, [0, 1], `frame ${c.id}: fc1 hops ${JSON.stringify(halves)}`);
  }
  // and its output is the whole model's for that frame
  assert.equal(r.samples.size, r.completed);
  const check = await checkOutputs({ engine: await createEngine('onnx', { threads: 1 }), spec, weightSeed: DEFAULT_SEED, frameSeed: 3, threads: 1, samples: r.samples });
  assert.equal(check.ok, true, `max abs diff ${check.maxAbsDiff}`);

  // the nodes account for every dropped frame
  const fc2 = await askStats(node('fc2'), farm.maxMessageBytes);
  const block1 = await askStats(node('block1'), farm.maxMessageBytes);
  console.log(`shard death: ${r.completed} completed, ${r.dropped} dropped; fc2 merge-dropped ${fc2.mergeDropped}, block1 could not send ${block1.sendFailed}, block1 computed ${block1.computed}`);
  // A frame lost inside the dead shard is dropped by fc2's merge (its other half came); a later
  // frame is not placed by block1 at all. Node counters count events per hop: a frame whose half
  // to the dying shard failed on the wire is counted by block1 and by fc2's merge, so the nodes'
  // sum bounds the sender's per-frame count from above, and fc2's distinct drops from below.
  assert.ok(fc2.mergeDropped <= r.dropped, 'fc2 never drops a frame the sender saw complete');
  assert.ok(fc2.mergeDropped + block1.sendFailed >= r.dropped, 'every frame the sender lost was counted by a node');
  assert.ok(fc2.mergeDropped + block1.sendFailed <= r.dropped + 8, 'counted twice at most the frames in flight at the kill');
  assert.equal(block1.computed, frames, 'block1 kept computing every frame');
  const log = farm.nodes.find((n) => n.config.role === 'block1')!.output.join('\n');
  assert.match(log, /replica 0 \(127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\) is down/);
  if (fc2.mergeDropped > 0) assert.match(farm.nodes.find((n) => n.config.role === 'fc2')!.output.join('\n'), /dropped, 1 of 2 shards \(timeout\)/);
});
