// A real node process (AlexNet fc2..fc3) fed malformed frames, non-Avro bytes and oversized
// messages: each is refused or its connection closed, and a good frame after each one completes.
import { test, after, before } from 'node:test';
import { at, nodeConfig } from './node-config.js';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:net';
import { startNodeProcesses, nodeMainPath, type NodeProcesses } from '../../src/lab/local-launch.js';
import { freePorts } from '../../src/lab/local-ports.js';
import type { NodeConfig } from '../../src/runtime/config.js';
import { Peer } from '../../src/runtime/peer.js';
import { service, type Frame, type Tensor } from '../../src/runtime/protocol.js';
import { closeServer, serveAvro } from '../../src/runtime/server-conn.js';
import { waitFor } from '../wait.js';

const MAX = 64 * 1024; // fc2's input is 16 KB
let node: NodeProcesses;
let cfg: NodeConfig;
let results: Server;
const got = new Map<number, Frame>();
const waiters = new Map<number, () => void>();

before(async () => {
  const [nodePort, senderPort] = await freePorts(2);
  const server = service.createServer({ silent: true } as never);
  server.onMessage('forward', (req: { frame: Frame }) => {
    got.set(req.frame.id, req.frame);
    waiters.get(req.frame.id)?.();
  });
  results = await serveAvro(server, { host: '127.0.0.1', port: senderPort!, maxMessageBytes: 1 << 20, log: () => {} });
  cfg = nodeConfig({ role: 'fc2', stageIndex: 2, layers: ['fc2', 'fc3'], listen: at(nodePort!), sender: at(senderPort!), threads: 1, maxMessageBytes: MAX });
  node = await startNodeProcesses([cfg], { maxMessageBytes: MAX });
});

after(async () => {
  await node?.stop();
  if (results) await closeServer(results);
});

const floats = (n: number): Tensor => {
  const v = new Float32Array(n).map((_, i) => (i % 13) / 13);
  return { dtype: 'float32', shape: [n], data: Buffer.from(v.buffer) };
};
const frame = (id: number, tensor: Tensor): Frame => ({ id, sentAt: Date.now(), fromShard: 0, shardCount: 1, tensor, trace: [] });

function result(id: number, ms = 10_000): Promise<Frame> {
  if (got.has(id)) return Promise.resolve(got.get(id)!);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`frame ${id}: no result after ${ms} ms`)), ms);
    waiters.set(id, () => {
      clearTimeout(t);
      resolve(got.get(id)!);
    });
  });
}

/** Writes raw bytes on a fresh connection; resolves when the node closes it. */
function rawClosed(bytes: Buffer, ms = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: cfg.listen.port }, () => s.write(bytes));
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, ms);
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    s.resume();
  });
}

const logOf = () => node.nodes[0]!.output.join('\n');

test('a good frame completes with the 1000 class scores', async () => {
  const peer = new Peer(cfg.listen, MAX);
  peer.forward(frame(1, floats(4096)));
  const r = await result(1);
  assert.deepEqual(r.tensor.shape, [1000]);
  assert.equal(r.trace.length, 1);
  assert.equal(r.trace[0]!.role, 'fc2');
  peer.close();
});

test('frames of the wrong size, dtype or shape are refused with their id; the node keeps serving', async () => {
  const peer = new Peer(cfg.listen, MAX);
  peer.forward(frame(10, floats(4000)));
  peer.forward(frame(11, { dtype: 'uint8', shape: [4096], data: Buffer.alloc(4096) }));
  peer.forward(frame(12, { ...floats(4096), shape: [64, 64] }));
  peer.forward(frame(13, { dtype: 'float32', shape: [4096], data: Buffer.alloc(100) }));
  peer.forward(frame(14, floats(4096)));
  await result(14);
  await waitFor('four refusals in the log', () => (logOf().match(/refused: /g) ?? []).length >= 4);
  assert.equal(got.has(10) || got.has(11) || got.has(12) || got.has(13), false);
  const s = await peer.stats();
  assert.equal(s.refused, 4);
  const log = logOf();
  for (const id of [10, 11, 12, 13]) assert.match(log, new RegExp(`frame ${id}: refused`));
  assert.match(log, /frame 11: refused: dtype uint8, expected float32/);
  peer.close();
});

test('bytes that are not Avro close that connection only', async () => {
  assert.equal(await rawClosed(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), true);
  // Plausible framing, garbage inside: avsc cannot decode the handshake.
  const junk = Buffer.alloc(8 + 4 + 40, 0xab);
  junk.writeInt32BE(1, 0);
  junk.writeInt32BE(1, 4);
  junk.writeInt32BE(40, 8);
  assert.equal(await rawClosed(junk), true);
  const peer = new Peer(cfg.listen, MAX);
  peer.forward(frame(20, floats(4096)));
  await result(20);
  peer.close();
  await waitFor('both closings in the log', () => /not a valid Avro request/.test(logOf()));
  assert.match(logOf(), /closing connection from .*not an Avro IPC message/);
  assert.match(logOf(), /closing connection from .*not a valid Avro request/);
});

test('a message above maxMessageBytes closes that connection; a new connection is served', async () => {
  const big = new Peer(cfg.listen, 1 << 22);
  big.forward(frame(30, floats(32 * 1024))); // 128 KB > 64 KB
  await waitFor('the node to close the connection', () => !big.connected);
  assert.equal(got.has(30), false);
  big.close();
  const peer = new Peer(cfg.listen, MAX);
  peer.forward(frame(31, floats(4096)));
  await result(31);
  await waitFor('the log line', () => /exceeds maxMessageBytes 65536/.test(logOf()));
  const s = await peer.stats();
  assert.equal(s.ready, true);
  assert.ok(s.rssBytes > 0);
  peer.close();
  assert.equal(node.nodes[0]!.child.exitCode, null);
});

test('a node that cannot bind its port says which port and why, and exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-test-'));
  const file = join(dir, 'busy.json');
  writeFileSync(file, JSON.stringify(cfg)); // the running node holds this port
  const r = spawnSync(process.execPath, [nodeMainPath(), '--config', file], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 3);
  assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${cfg.listen.port}: EADDRINUSE`));
});

test('an unknown model or a bad config field fails at start, naming the valid values', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-test-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ ...cfg, model: 'resnet' }));
  let r = spawnSync(process.execPath, [nodeMainPath(), '--config', file], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown model "resnet"; valid models: alexnet, vgg16/);
  writeFileSync(file, JSON.stringify({ ...cfg, engine: 'torch' }));
  r = spawnSync(process.execPath, [nodeMainPath(), '--config', file], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.json: engine: unknown engine "torch"; valid engines: onnx, tfjs/);
  writeFileSync(file, JSON.stringify({ ...cfg, layers: ['fc9'] }));
  r = spawnSync(process.execPath, [nodeMainPath(), '--config', file], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown layer "fc9" of alexnet; valid layers: conv1/);
});

test('a stats deadline, met on time by a peer that never answers, fails at about its deadline', async () => {
  // a server that accepts and never answers
  const accepted: Socket[] = [];
  const silent = createServer((s) => {
    s.on('error', () => {});
    accepted.push(s);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const mute = new Peer({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port }, MAX);
  const t1 = Date.now();
  await assert.rejects(mute.stats(300), /timeout/);
  const took = Date.now() - t1;
  assert.ok(took >= 290 && took < 1000, `failed after ${took} ms`);
  mute.close();
  for (const a of accepted) a.destroy();
  silent.close();
});
