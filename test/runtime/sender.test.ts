// The sender and nodes in this process on loopback: de-duplication of results by frame id, the
// merge of shards by frame id in a live node (a frame missing a shard is dropped and counted),
// and an open-loop run faster than a stage can go (full queue: frames dropped and counted once).
import { test } from 'node:test';
import { nodeConfig } from './node-config.js';
import assert from 'node:assert/strict';
import { freePorts } from '../../src/lab/local-ports.js';
import { createEngine } from '../../src/engine/index.js';
import { loadModelSpec } from '../../src/model/spec.js';
import { NodeServer } from '../../src/runtime/node-server.js';
import { Peer } from '../../src/runtime/peer.js';
import { service, type Frame } from '../../src/runtime/protocol.js';
import { runSender } from '../../src/runtime/sender.js';
import { closeServer, serveAvro } from '../../src/runtime/server-conn.js';
import { floatTensor, floatValues } from '../../src/runtime/tensor.js';
import { waitFor } from '../wait.js';

const alexnet = loadModelSpec('alexnet');
const quiet = () => {};

test('a result that comes back twice counts once', async () => {
  const [stagePort, senderPort] = await freePorts(2);
  // A stage that answers every frame twice (a misbehaving or retrying peer).
  const back = new Peer({ host: '127.0.0.1', port: senderPort! }, 1 << 22);
  const server = service.createServer({ silent: true } as never);
  server.onMessage('forward', (req: { frame: Frame }) => {
    const out = { ...req.frame, tensor: floatTensor(new Float32Array([req.frame.id]), [1]) };
    back.forward(out);
    back.forward(out);
  });
  const stage = await serveAvro(server, { host: '127.0.0.1', port: stagePort!, maxMessageBytes: 1 << 22, log: quiet });
  try {
    const r = await runSender({
      input: [8, 8, 3], first: { role: 'echo', mode: 'replicas', endpoints: [{ host: '127.0.0.1', port: stagePort! }] },
      listen: { host: '127.0.0.1', port: senderPort! }, frames: 10, warmup: 2, window: 3, sampleIds: [4], log: quiet,
    });
    assert.equal(r.completed, 10);
    assert.equal(r.dropped, 0);
    // The second copies of the last frames may arrive after the run ended; most are seen here.
    assert.ok(r.duplicates >= 7, `duplicates ${r.duplicates}`);
    assert.deepEqual([...r.samples.get(4)!], [4]);
  } finally {
    back.close();
    await closeServer(stage);
  }
});

test('--deadline: a frame slower than it is given up, counted as past its deadline, its late result not counted', async () => {
  const [stagePort, senderPort] = await freePorts(2);
  // every other frame takes 300 ms, the rest come back at once
  const back = new Peer({ host: '127.0.0.1', port: senderPort! }, 1 << 22);
  const server = service.createServer({ silent: true } as never);
  server.onMessage('forward', (req: { frame: Frame }) => {
    const out = { ...req.frame, tensor: floatTensor(new Float32Array([req.frame.id]), [1]) };
    if (req.frame.id % 2) setTimeout(() => back.forward(out), 300);
    else back.forward(out);
  });
  const stage = await serveAvro(server, { host: '127.0.0.1', port: stagePort!, maxMessageBytes: 1 << 22, log: quiet });
  try {
    const r = await runSender({
      input: [8, 8, 3], first: { role: 'echo', mode: 'replicas', endpoints: [{ host: '127.0.0.1', port: stagePort! }] },
      listen: { host: '127.0.0.1', port: senderPort! }, frames: 10, warmup: 0, window: 10, sampleIds: [], deadlineMs: 150, log: quiet,
    });
    assert.deepEqual([r.completed, r.dropped, r.pastDeadline], [5, 5, 5]);
  } finally {
    back.close();
    await closeServer(stage);
  }
});

test('a live node merges shards by frame id, in shard order, and drops a frame missing a shard', async () => {
  const [nodePort, senderPort] = await freePorts(2);
  const got = new Map<number, Float32Array>();
  const server = service.createServer({ silent: true } as never);
  server.onMessage('forward', (req: { frame: Frame }) => void got.set(req.frame.id, Float32Array.from(floatValues(req.frame.tensor))));
  const results = await serveAvro(server, { host: '127.0.0.1', port: senderPort!, maxMessageBytes: 1 << 22, log: quiet });
  const logs: string[] = [];
  const node = new NodeServer(
    nodeConfig({ role: 'merge', stageIndex: 1, mergeFrom: 2, mergeTimeoutMs: 150, listen: { host: '127.0.0.1', port: nodePort! }, sender: { host: '127.0.0.1', port: senderPort! } }),
    alexnet,
    { log: (m) => logs.push(m) },
  );
  await node.listen();
  await node.load(null);
  const peer = new Peer({ host: '127.0.0.1', port: nodePort! }, 1 << 22);
  const part = (id: number, shard: number, v: number[]): Frame => ({ id, sentAt: 0, fromShard: shard, shardCount: 2, tensor: floatTensor(new Float32Array(v), [v.length]), trace: [] });
  try {
    peer.forward(part(1, 0, [1, 1])); // its other half never comes
    peer.forward(part(2, 1, [2.5, 2.5]));
    peer.forward(part(3, 0, [3]));
    peer.forward(part(2, 0, [2]));
    peer.forward(part(3, 1, [3.5]));
    await waitFor('frames 2 and 3', () => got.has(2) && got.has(3));
    await waitFor('the drop of frame 1', async () => (await peer.stats()).mergeDropped === 1);
    assert.deepEqual([...got.keys()].sort(), [2, 3]);
    assert.deepEqual([...got.get(2)!], [2, 2.5, 2.5]);
    assert.deepEqual([...got.get(3)!], [3, 3.5]);
    peer.forward(part(1, 1, [1.5])); // late half of the dropped frame: ignored, not merged
    peer.forward(part(4, 0, [4]));
    peer.forward(part(4, 1, [4.5]));
    await waitFor('frame 4', () => got.has(4)); // sent after the late half, on the same connection
    assert.equal(got.has(1), false);
    assert.equal((await peer.stats()).mergeDropped, 1);
    assert.match(logs.join('\n'), /frame 1: dropped, 1 of 2 shards \(timeout\)/);
  } finally {
    peer.close();
    await node.close();
    await closeServer(results);
  }
});

test('open loop faster than the stage: full queue drops are counted, every frame accounted once', async () => {
  const [nodePort, senderPort] = await freePorts(2);
  const node = new NodeServer(
    nodeConfig({ role: 'block1', layers: alexnet.layers.filter((l) => l.block === 'block1').map((l) => l.name), queueCapacity: 2, threads: 1, listen: { host: '127.0.0.1', port: nodePort! }, next: { role: 'sender', mode: 'replicas', endpoints: [{ host: '127.0.0.1', port: senderPort! }] }, sender: { host: '127.0.0.1', port: senderPort! } }),
    alexnet,
    { log: quiet },
  );
  await node.listen();
  await node.load(await createEngine('onnx', { threads: 1 }));
  try {
    const r = await runSender({
      input: alexnet.input, first: { role: 'block1', mode: 'replicas', endpoints: [{ host: '127.0.0.1', port: nodePort! }] },
      listen: { host: '127.0.0.1', port: senderPort! }, frames: 60, warmup: 5, rate: 2000, frameTimeoutMs: 1500, sampleIds: [], log: quiet,
    });
    assert.equal(r.mode, 'open-loop');
    assert.equal(r.sent, 60);
    assert.equal(r.completed + r.dropped, 60);
    assert.ok(r.dropped > 0, 'a 2-frame queue cannot take 2000 frames/s');
    assert.equal(node.stats().queueDropped, r.dropped);
  } finally {
    await node.close();
  }
});

test('a node whose next stage is down counts the lost outputs and keeps serving', async () => {
  const [nodePort, deadPort] = await freePorts(2);
  const node = new NodeServer(nodeConfig({ listen: { host: '127.0.0.1', port: nodePort! }, sender: { host: '127.0.0.1', port: deadPort! } }), alexnet, { log: quiet });
  await node.listen();
  await node.load(null);
  const peer = new Peer({ host: '127.0.0.1', port: nodePort! }, 1 << 22);
  try {
    const f = (id: number): Frame => ({ id, sentAt: 0, fromShard: 0, shardCount: 1, tensor: { dtype: 'uint8', shape: [2], data: Buffer.from([1, 2]) }, trace: [] });
    peer.forward(f(1));
    await waitFor('the first loss', async () => (await peer.stats()).sendFailed === 1);
    await new Promise((r) => setTimeout(r, 250)); // past the reconnect back-off
    peer.forward(f(2));
    await waitFor('the second loss', async () => (await peer.stats()).sendFailed === 2);
    assert.equal((await peer.stats()).computed, 2);
  } finally {
    peer.close();
    await node.close();
  }
});
