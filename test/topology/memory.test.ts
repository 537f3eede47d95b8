// The planner's memory model (cost-model.ts): the formula on known blocks, and real node processes
// whose kernel high-water mark (VmHWM, the load's peak included) must stay under what the model
// says, so a plan that "fits" fits. The model was fitted by `npm run bench -- memory`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset, loadModelSpec, type StageSpec } from '../../src/model/spec.js';
import { stageInfos } from '../../src/model/shapes.js';
import {
  ACTIVATION_FACTOR, CONV_LAYER_LOAD_FACTOR, CONV_LOAD_FACTOR, CONV_RUN_FACTOR, DEFAULT_COST_MODEL, FRAME_FACTOR, LOAD_PEAK_FACTOR, NODE_RUNTIME_MB,
  memoryMbOf, memoryParts, stageMemoryMb,
} from '../../src/topology/cost-model.js';
import { measureTopology } from '../../bench/memory.js';

const stage = (layers: string[], shards = 1): StageSpec => ({ role: 'x', layers, replicas: 1, shards });
const info = (model: string, s: StageSpec) => stageInfos(loadModelSpec(model), [s])[0]!;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

test('memory parts of known blocks: conv vs dense weights, a shard holds its slice, activations and frames', () => {
  const fc1 = memoryParts(info('vgg16', stage(['fc1'])));
  close(fc1.denseMb, (25088 * 4096 + 4096) * 4 / 1e6, 'VGG16 fc1 weights');
  close(fc1.convMb, 0, 'fc1 has no conv');
  close(fc1.frameMb, (25088 + 4096) * 4 / 1e6, 'fc1 in + out');
  const half = memoryParts(info('vgg16', stage(['fc1'], 2)));
  close(half.denseMb, fc1.denseMb / 2, 'a half of fc1');
  close(half.frameMb, (25088 + 2048) * 4 / 1e6, 'a half sends its 2048 units');
  const block1 = memoryParts(info('vgg16', stage(['conv1_1', 'conv1_2', 'pool1'])));
  close(block1.convMb, ((3 * 9 + 1) * 64 + (64 * 9 + 1) * 64) * 4 / 1e6, 'VGG16 block1 conv weights');
  close(block1.largestConvLayerMb, (64 * 9 + 1) * 64 * 4 / 1e6, 'conv1_2');
  close(block1.activationMb, 2 * 224 * 224 * 64 * 4 / 1e6, 'conv1_2 in + out');
});

test('the formula: the larger of the load and running peaks; strict adds twice all weights', () => {
  const p = { convMb: 10, denseMb: 100, largestConvLayerMb: 5, activationMb: 2, frameMb: 1 };
  const load = NODE_RUNTIME_MB + 100 + CONV_LOAD_FACTOR * 10 + CONV_LAYER_LOAD_FACTOR * 5;
  const run = NODE_RUNTIME_MB + 100 + CONV_RUN_FACTOR * 10 + ACTIVATION_FACTOR * 2 + FRAME_FACTOR * 1;
  close(memoryMbOf(p), Math.max(load, run), 'default');
  assert.ok(load > run, 'conv-heavy: the load peak decides');
  const io = { ...p, activationMb: 30, frameMb: 10 };
  close(memoryMbOf(io), NODE_RUNTIME_MB + 100 + CONV_RUN_FACTOR * 10 + ACTIVATION_FACTOR * 30 + FRAME_FACTOR * 10, 'big activations: the running peak decides');
  close(memoryMbOf(p, true), Math.max(memoryMbOf(p), NODE_RUNTIME_MB + LOAD_PEAK_FACTOR * 110), 'strict');
  // dense weights count once (the onnx engine feeds them by reference): VGG16 fc1 whole fits a Pi 3's 700 MB, the whole model does not
  assert.ok(stageMemoryMb(info('vgg16', stage(['fc1']))) <= 700);
  const whole = loadModelSpec('vgg16').layers.map((l) => l.name);
  assert.ok(stageMemoryMb(info('vgg16', stage(whole))) > 700, 'VGG16 whole (measured 828-875 MB) must not fit 700 MB');
  assert.ok(stageMemoryMb(info('vgg16', stage(['fc1'])), { ...DEFAULT_COST_MODEL, strictMemory: true }) > 700, 'strict: fc1 whole needs 2 x 411 MB');
});

test('real node processes (AlexNet, onnx engine): measured peak RSS <= the model, for every block', { timeout: 180_000 }, async () => {
  // alexnet-5: a conv block, two halves of a dense layer, the two last dense layers; window 8 as
  // the model was fitted with (the sender's default)
  const blocks = await measureTopology('alexnet', findPreset('alexnet-5').stages.map((s) => ({ ...s, replicas: 1 })), { frames: 16, window: 8 });
  assert.equal(blocks.length, 3);
  for (const b of blocks) {
    // the measurement is real: the process held at least its dense weights and a runtime
    assert.ok(b.peakMb > b.denseMb + 50, `${b.block}: peak ${b.peakMb.toFixed(0)} MB is not a real process's`);
    assert.ok(b.peakMb <= b.modelMb, `${b.block}: measured ${b.peakMb.toFixed(0)} MB > model ${b.modelMb.toFixed(0)} MB: the model under-counts`);
  }
});
