// A node computes in a worker thread: while a heavy block runs its frames, the node's own event
// loop answers probes at once (it used to answer only between frames, seconds apart on a Pi),
// and the outputs are the same as the block's run in this thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeServer } from '../../src/runtime/node-server.js';
import { Peer } from '../../src/runtime/peer.js';
import { loadModelSpec } from '../../src/model/spec.js';
import { loadInThread } from '../../src/runtime/compute-thread.js';
import { createEngine } from '../../src/engine/index.js';
import { service, type Frame } from '../../src/runtime/protocol.js';
import { closeServer, serveAvro } from '../../src/runtime/server-conn.js';
import { freePorts } from '../../src/lab/local-ports.js';
import { randomFrame } from '../../src/runtime/frames.js';
import { nodeConfig } from './node-config.js';
import { waitFor } from '../wait.js';

const vgg = loadModelSpec('vgg16');
const LAYERS = ['conv1_1', 'conv1_2', 'pool1', 'conv2_1', 'conv2_2', 'pool2'];

test('a block in a worker thread gives the same output as in this thread', async () => {
  const here = await (await createEngine('onnx', { threads: 1 })).load({ model: vgg, layers: LAYERS, seed: 7, threads: 1 });
  const there = await loadInThread({ engine: 'onnx', model: 'vgg16', layers: LAYERS, seed: 7, threads: 1 });
  const x = new Float32Array(224 * 224 * 3).map((_, i) => (i % 97) / 97);
  const a = await here.run(x.slice());
  const b = await there.run(x.slice());
  assert.equal(a.length, b.length);
  assert.ok(a.every((v, i) => v === b[i]), 'bit for bit');
  await here.dispose();
  await there.dispose();
});

test('while its frames compute, a node answers every probe within 100 ms', { timeout: 120_000 }, async () => {
  const [nodePort, senderPort] = await freePorts(2);
  const results = service.createServer({ silent: true } as never);
  let back = 0;
  results.onMessage('forward', () => void back++);
  const sink = await serveAvro(results, { host: '127.0.0.1', port: senderPort!, maxMessageBytes: 64 << 20, log: () => {} });
  const node = new NodeServer(nodeConfig({ model: 'vgg16', role: 'b12', stageIndex: 0, layers: LAYERS, listen: { host: '127.0.0.1', port: nodePort! }, sender: { host: '127.0.0.1', port: senderPort! }, maxMessageBytes: 64 << 20, threads: 1 }), vgg, { log: () => {} });
  await node.listen();
  await node.load('thread');
  const peer = new Peer({ host: '127.0.0.1', port: nodePort! }, 64 << 20);
  const probe = new Peer({ host: '127.0.0.1', port: nodePort! }, 64 << 20);
  try {
    await probe.stats(5000);
    const frames = 6;
    for (let id = 0; id < frames; id++) peer.forward({ id, sentAt: Date.now(), fromShard: 0, shardCount: 1, tensor: { dtype: 'uint8', shape: [224, 224, 3], data: Buffer.from(randomFrame(1, id, 224 * 224 * 3)) }, trace: [] } as Frame);
    const answered: number[] = [];
    while (back < frames) {
      const t = performance.now();
      const s = await probe.stats(100);
      answered.push(performance.now() - t);
      assert.ok(s.ready);
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor('every frame back', () => back === frames, 60_000);
    assert.ok(answered.length >= 5, `${answered.length} probes during ${frames} frames`);
    assert.ok(Math.max(...answered) < 100, `slowest answer ${Math.max(...answered).toFixed(1)} ms`);
  } finally {
    peer.close();
    probe.close();
    await node.close();
    await closeServer(sink);
  }
});
