// A next stage that accepts the connection and then stops reading (a stalled peer, a link that
// carries nothing): the node keeps serving, drops what its send buffer cannot hold, counts it,
// and its memory stays bounded instead of buffering every frame.
import { test, before, after } from 'node:test';
import { at, nodeConfig } from './node-config.js';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { startNodeProcesses, type NodeProcesses } from '../../src/lab/local-launch.js';
import { freePorts } from '../../src/lab/local-ports.js';
import type { NodeConfig } from '../../src/runtime/config.js';
import { Peer } from '../../src/runtime/peer.js';
import type { Frame } from '../../src/runtime/protocol.js';
import { waitFor } from '../wait.js';

const MAX = 2 << 20;
let node: NodeProcesses;
let cfg: NodeConfig;
let stalled: Server;
const held: Socket[] = [];

before(async () => {
  const [nodePort, senderPort] = await freePorts(2);
  // accepts, never reads: the kernel's buffers fill, then nothing more leaves the node
  stalled = createServer((s) => {
    s.pause();
    held.push(s);
  });
  stalled.listen(senderPort, '127.0.0.1');
  await once(stalled, 'listening');
  cfg = nodeConfig({ listen: at(nodePort!), sender: at(senderPort!), seed: 1, maxMessageBytes: MAX });
  node = await startNodeProcesses([cfg], { maxMessageBytes: MAX });
});
after(async () => {
  await node?.stop();
  for (const s of held) s.destroy();
  stalled?.close();
});

test('a stalled next stage: frames dropped and counted once the send buffer is full, memory bounded', async () => {
  const peer = new Peer(cfg.listen, MAX);
  const base = await peer.stats();
  const mb = 1 << 20;
  const frame = (id: number): Frame => ({ id, sentAt: Date.now(), fromShard: 0, shardCount: 1, tensor: { dtype: 'uint8', shape: [mb], data: Buffer.alloc(mb, id & 0xff) }, trace: [] });
  for (let id = 0; id < 300; id++) {
    peer.forward(frame(id));
    if (id % 20 === 19) await peer.stats(); // pace the input: the node must take it all in
  }
  await waitFor('every frame received', async () => (await peer.stats()).received === 300, 30_000);
  const s = await peer.stats();
  peer.close();
  const grew = (s.rssBytes - base.rssBytes) / mb;
  console.log(`backpressure: 300 frames of 1 MB to a stalled peer: ${s.sendFailed} dropped at the send buffer, rss +${grew.toFixed(0)} MB`);
  assert.equal(s.computed, 300, 'the node kept serving');
  assert.ok(s.sendFailed >= 200, `only ${s.sendFailed} frames counted as not sent`);
  assert.ok(grew < 100, `rss grew by ${grew.toFixed(0)} MB for 300 MB of frames`);
  assert.match(node.nodes[0]!.output.join('\n'), /send buffer full, frame \d+ dropped/);
});
