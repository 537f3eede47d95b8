// A node started with a farm secret: frames from a peer holding the secret go through (and the
// node proves the secret to the result port too); a peer without it, or with a wrong one, is
// refused before any Avro byte is read, and the node keeps serving.
import { test, before, after } from 'node:test';
import { at, nodeConfig } from './node-config.js';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:net';
import { startNodeProcesses, type NodeProcesses } from '../../src/lab/local-launch.js';
import { freePorts } from '../../src/lab/local-ports.js';
import { newSecretHex } from '../../src/runtime/auth.js';
import type { NodeConfig } from '../../src/runtime/config.js';
import { Peer } from '../../src/runtime/peer.js';
import { service, type Frame } from '../../src/runtime/protocol.js';
import { closeServer, serveAvro } from '../../src/runtime/server-conn.js';
import { waitFor } from '../wait.js';

const hex = newSecretHex();
const secret = Buffer.from(hex, 'hex');
let node: NodeProcesses;
let cfg: NodeConfig;
let results: Server;
const got = new Set<number>();

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-test-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, hex);
  chmodSync(secretFile, 0o600);
  const [nodePort, senderPort] = await freePorts(2);
  const server = service.createServer({ silent: true } as never);
  server.onMessage('forward', (req: { frame: Frame }) => void got.add(req.frame.id));
  results = await serveAvro(server, { host: '127.0.0.1', port: senderPort!, maxMessageBytes: 1 << 20, log: () => {}, secret });
  cfg = nodeConfig({ listen: at(nodePort!), sender: at(senderPort!), seed: 1, maxMessageBytes: 1 << 20, secretFile });
  node = await startNodeProcesses([cfg], { maxMessageBytes: 1 << 20, secret });
});

after(async () => {
  await node?.stop();
  if (results) await closeServer(results);
});

const frame = (id: number): Frame => ({ id, sentAt: Date.now(), fromShard: 0, shardCount: 1, tensor: { dtype: 'uint8', shape: [4], data: Buffer.from([1, 2, 3, 4]) }, trace: [] });

test('with the secret a frame goes through both authenticated hops; without it the connection is refused', async () => {
  const stranger = new Peer(cfg.listen, 1 << 20);
  stranger.forward(frame(1));
  const wrong = new Peer(cfg.listen, 1 << 20, () => {}, Buffer.alloc(32, 7));
  wrong.forward(frame(2));
  const friend = new Peer(cfg.listen, 1 << 20, () => {}, secret);
  friend.forward(frame(3));
  await waitFor('the authenticated frame', () => got.has(3));
  await waitFor('both refusals in the log', () => (node.nodes[0]!.output.join('\n').match(/refused: /g) ?? []).length >= 2);
  const stats = await friend.stats();
  assert.equal(got.has(1) || got.has(2), false);
  assert.equal(stats.received, 1);
  assert.equal(node.nodes[0]!.child.exitCode, null);
  const log = node.nodes[0]!.output.join('\n');
  assert.match(log, /refused: .*(did not start the pifarm handshake|does not hold the farm secret)/);
  for (const p of [stranger, wrong, friend]) p.close();
});
