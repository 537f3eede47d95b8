// Fuzz: a real node process (AlexNet fc3 merging two fc2 shards, farm secret on) gets bursts of
// hostile connections for a bounded time: random bytes, a half handshake, a valid handshake then
// garbage, recorded valid Avro traffic with random mutations (flipped bits, huge array counts,
// oversized and negative lengths, truncations), schema-valid frames with nonsense values, and idle
// connections. After every burst a good frame (both shards) must come back; the node never exits,
// its memory stays bounded, and idle connections are closed by the authentication timeout.
// The seed is printed; PIFARM_FUZZ_SEED=<n> replays a run.
import { test, before, after } from 'node:test';
import { at, nodeConfig } from './node-config.js';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startNodeProcesses, type NodeProcesses } from '../../src/lab/local-launch.js';
import { freePorts } from '../../src/lab/local-ports.js';
import { authenticateServer, newSecretHex } from '../../src/runtime/auth.js';
import type { NodeConfig } from '../../src/runtime/config.js';
import { Peer } from '../../src/runtime/peer.js';
import { service, type Frame, type Tensor } from '../../src/runtime/protocol.js';
import { closeServer, serveAvro } from '../../src/runtime/server-conn.js';
import { waitFor } from '../wait.js';

const FUZZ_MS = Number(process.env.PIFARM_FUZZ_MS ?? 15_000);
const SEED = Number(process.env.PIFARM_FUZZ_SEED ?? Date.now() % 1_000_000);
const MAX = 64 * 1024; // a shard's part is 8 KB
const HANDSHAKE_BYTES = 4 + 32 + 32; // what the client writes before its first Avro byte

const hex = newSecretHex();
const secret = Buffer.from(hex, 'hex');
let node: NodeProcesses;
let cfg: NodeConfig;
let results: Server;
const got = new Map<number, Frame>();

/** mulberry32: the fuzz is reproducible from its seed. */
let state = SEED >>> 0;
function rand(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const floats = (n: number, v = 0.5): Tensor => ({ dtype: 'float32', shape: [n], data: Buffer.from(new Float32Array(n).fill(v).buffer) });
const part = (id: number, shard: number): Frame => ({ id, sentAt: Date.now(), fromShard: shard, shardCount: 2, tensor: floats(2048), trace: [] });

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-fuzz-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, hex);
  chmodSync(secretFile, 0o600);
  const [nodePort, senderPort] = await freePorts(2);
  const server = service.createServer({ silent: true } as never);
  server.onMessage('forward', (req: { frame: Frame }) => void got.set(req.frame.id, req.frame));
  results = await serveAvro(server, { host: '127.0.0.1', port: senderPort!, maxMessageBytes: 1 << 20, log: () => {}, secret });
  cfg = nodeConfig({
    role: 'fc3', stageIndex: 3, layers: ['fc3'], listen: at(nodePort!), mergeFrom: 2, sender: at(senderPort!),
    threads: 1, maxMessageBytes: MAX, mergeTimeoutMs: 500, mergeCapacity: 16, queueCapacity: 8, secretFile,
  });
  node = await startNodeProcesses([cfg], { maxMessageBytes: MAX, secret });
});

after(async () => {
  await node?.stop();
  if (results) await closeServer(results);
});

/** The bytes a real, authenticated client writes after the secret handshake: recorded by a proxy. */
async function recordValidTraffic(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const proxy = createServer((inbound) => {
    const out = connect({ host: '127.0.0.1', port: cfg.listen.port });
    inbound.on('data', (d: Buffer) => chunks.push(d));
    inbound.pipe(out).pipe(inbound);
    inbound.on('error', () => out.destroy());
    out.on('error', () => inbound.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const peer = new Peer({ host: '127.0.0.1', port: (proxy.address() as { port: number }).port }, MAX, () => {}, secret);
  peer.forward(part(900_001, 0));
  peer.forward(part(900_001, 1));
  await waitFor('the recorded frame', () => got.has(900_001));
  await peer.stats();
  peer.close();
  await new Promise<void>((r) => proxy.close(() => r()));
  return Buffer.concat(chunks).subarray(HANDSHAKE_BYTES);
}

/** One mutation of the recorded stream. */
function mutate(valid: Buffer): Buffer {
  const b = Buffer.from(valid);
  const kind = int(6);
  if (kind === 0) {
    for (let k = 1 + int(8); k > 0; k--) b[int(b.length)] ^= 1 << int(8); // bit flips
    return b;
  }
  if (kind === 1) {
    // a large varint in place of one byte (array and map block counts, string lengths)
    const at = int(b.length);
    return Buffer.concat([b.subarray(0, at), varint(pick([int(1 << 27), 2 ** 40 + int(1000), -int(1 << 20)])), b.subarray(at + 1)]);
  }
  if (kind === 2) {
    const at = 8 + 4 * int(3); // the first packet's frame count or a part length
    b.writeInt32BE(pick([0x7fffffff, -1, -0x80000000, MAX + 1, 1 << 24]), Math.min(at, b.length - 4));
    return b;
  }
  if (kind === 3) return b.subarray(0, int(b.length)); // truncated
  if (kind === 4) return Buffer.concat([b.subarray(0, int(b.length)), bytes(1 + int(256)), b.subarray(int(b.length))]); // spliced
  for (let k = 1 + int(32); k > 0; k--) b[int(b.length)] = int(256); // random bytes
  return b;
}

/** A connection that has passed the secret handshake. */
async function authed(): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port: cfg.listen.port });
  s.on('error', () => {});
  await once(s, 'connect');
  await authenticateServer(s, secret);
  s.resume();
  return s;
}

/** Frames that are valid Avro but nonsense for this node, sent by a client holding the secret. */
function nonsenseFrame(): Frame {
  const shape = Array.from({ length: int(4) }, () => pick([0, 1, 2048, 4096, 0x7fffffff, int(100)]));
  const data = bytes(pick([0, 3, 8192, int(20000)]));
  return {
    id: pick([int(1000), -1, 900_001, 2 ** 40]),
    sentAt: rand() * 1e12,
    fromShard: pick([0, 1, 2, -1, 0x7fffffff]),
    shardCount: pick([0, 1, 2, 3, -5]),
    tensor: { dtype: pick(['float32', 'uint8'] as const), shape, data },
    trace: [],
  };
}

/** Closes a fuzz connection after a short while if the node has not closed it already. */
function settle(s: Socket, ms = 300): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      s.destroy();
      resolve();
    }, ms);
    s.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

async function attack(valid: Buffer, idle: Socket[]): Promise<string> {
  const kind = pick(['random', 'magic', 'auth+random', 'auth+mutated', 'auth+mutated', 'auth+mutated', 'nonsense', 'idle'] as const);
  if (kind === 'nonsense') {
    const p = new Peer(cfg.listen, 1 << 20, () => {}, secret);
    for (let k = 0; k < 4; k++) p.forward(nonsenseFrame());
    await new Promise((r) => setTimeout(r, 100));
    p.close();
    return kind;
  }
  if (kind === 'idle') {
    const s = connect({ host: '127.0.0.1', port: cfg.listen.port });
    s.on('error', () => {});
    s.resume();
    s.on('close', () => (s as Socket & { closedByNode?: boolean }).closedByNode = true);
    idle.push(s);
    return kind;
  }
  let s: Socket;
  try {
    if (kind === 'random' || kind === 'magic') {
      s = connect({ host: '127.0.0.1', port: cfg.listen.port });
      s.on('error', () => {});
      await once(s, 'connect');
      s.resume();
      s.write(kind === 'magic' ? Buffer.concat([Buffer.from('PFA1'), bytes(64 + int(64))]) : bytes(1 + int(4096)));
    } else {
      s = await authed();
      s.write(kind === 'auth+random' ? bytes(1 + int(4096)) : mutate(valid));
    }
  } catch {
    return kind; // refused during connect or handshake: also fine
  }
  await settle(s);
  return kind;
}

test(`fuzz: the node keeps serving bursts of hostile connections with bounded memory (seed ${SEED})`, async () => {
  const valid = await recordValidTraffic();
  assert.ok(valid.length > 2 * 8192, 'the recorded traffic holds both shards');
  const friend = new Peer(cfg.listen, MAX, () => {}, secret);
  const base = await friend.stats();
  const counts = new Map<string, number>();
  const idle: Socket[] = [];
  const rss: number[] = [];
  const deadline = Date.now() + FUZZ_MS;
  let burst = 0;
  while (Date.now() < deadline) {
    burst++;
    const kinds = await Promise.all(Array.from({ length: 16 }, () => attack(valid, idle)));
    for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
    // after every burst, a good frame still completes
    const id = 1_000_000 + burst;
    friend.forward(part(id, 0));
    friend.forward(part(id, 1));
    await waitFor(`good frame ${id} after burst ${burst} (seed ${SEED})`, () => got.has(id), 5_000);
    assert.deepEqual(got.get(id)!.tensor.shape, [1000]);
    rss.push((await friend.stats()).rssBytes);
  }
  const s = await friend.stats();
  friend.close();
  const mb = (x: number) => (x / 2 ** 20).toFixed(0);
  console.log(`fuzz seed ${SEED}: ${burst} bursts, ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}; node rss ${mb(base.rssBytes)} -> ${mb(Math.max(...rss))} MB peak, ${mb(s.rssBytes)} MB at the end; refused ${s.refused}, merge-dropped ${s.mergeDropped}`);
  assert.ok(burst >= 5, `only ${burst} bursts in ${FUZZ_MS} ms`);
  assert.equal(node.nodes[0]!.child.exitCode, null, 'the node is still running');
  assert.ok(s.refused > 0, 'nonsense frames were refused');
  // Bounded: every message is at most 64 KB, queues and merge buffers are small. A leak per
  // connection or per message would grow far past this over thousands of them.
  assert.ok(s.rssBytes - base.rssBytes < 96 * 2 ** 20, `rss grew from ${mb(base.rssBytes)} to ${mb(s.rssBytes)} MB`);
  // Idle connections never authenticated: the node closes them after its handshake timeout.
  await waitFor('the node to close every idle connection', () => idle.every((x) => (x as Socket & { closedByNode?: boolean }).closedByNode), 10_000);
  for (const x of idle) x.destroy();
});

/** The recorded stream cut into packets: [id][count] then per part [length][bytes]. */
function packets(stream: Buffer): { id: number; parts: Buffer[] }[] {
  const out: { id: number; parts: Buffer[] }[] = [];
  let at = 0;
  while (at + 8 <= stream.length) {
    const id = stream.readInt32BE(at);
    const n = stream.readInt32BE(at + 4);
    at += 8;
    const parts: Buffer[] = [];
    for (let k = 0; k < n; k++) {
      const len = stream.readInt32BE(at);
      parts.push(stream.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    out.push({ id, parts });
  }
  return out;
}

function encodePacket(p: { id: number; parts: Buffer[] }): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(p.id, 0);
  head.writeInt32BE(p.parts.length, 4);
  return Buffer.concat([head, ...p.parts.flatMap((b) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length, 0);
    return [len, b];
  })]);
}

/** Avro's zig-zag varint. */
function varint(n: number): Buffer {
  let z = n * 2;
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
  return Buffer.from(out);
}

test('an array count far beyond the message (a few bytes claiming 100 million dimensions) is refused at once', async () => {
  const valid = await recordValidTraffic();
  const all = packets(valid);
  const first = all.find((p) => p.parts[p.parts.length - 1]!.length > 8192);
  assert.ok(first, `a recorded forward among ${all.length} packets`);
  const last = first.parts[first.parts.length - 1]!;
  // the tensor's shape [2048]: block of 1 item, zig-zag 4096, end of blocks
  const shape = Buffer.from([0x02, 0x80, 0x20, 0x00]);
  const at = last.indexOf(shape);
  assert.ok(at > 0, `the shape is in the request: ${last.subarray(0, 64).toString('hex')}`);
  const evil = { id: first.id, parts: [...first.parts.slice(0, -1), Buffer.concat([last.subarray(0, at), varint(100_000_000), last.subarray(at + 1)])] };
  const friend = new Peer(cfg.listen, MAX, () => {}, secret);
  const before = await friend.stats();
  const s = await authed();
  const t0 = Date.now();
  // the packets before it carry avsc's own handshake, which a connection must start with
  s.write(Buffer.concat([...all.slice(0, all.indexOf(first)).map(encodePacket), encodePacket(evil)]));
  await settle(s, 5000);
  friend.forward(part(2_000_001, 0));
  friend.forward(part(2_000_001, 1));
  await waitFor('a good frame after the attack', () => got.has(2_000_001), 20_000);
  const ms = Date.now() - t0;
  const after = await friend.stats();
  friend.close();
  assert.ok(ms < 3000, `the node took ${ms} ms to answer again`);
  assert.ok(after.peakRssBytes - before.peakRssBytes < 64 * 2 ** 20, `peak rss grew by ${((after.peakRssBytes - before.peakRssBytes) / 2 ** 20).toFixed(0)} MB`);
  assert.equal(node.nodes[0]!.child.exitCode, null);
});
