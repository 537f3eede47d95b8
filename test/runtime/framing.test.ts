import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketDecoder, type Packet } from '../../src/runtime/framing.js';

function encode(id: number, parts: Buffer[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(id, 0);
  head.writeInt32BE(parts.length, 4);
  return Buffer.concat([head, ...parts.flatMap((p) => { const l = Buffer.alloc(4); l.writeInt32BE(p.length, 0); return [l, p]; })]);
}

function decodeAll(chunks: Buffer[], max = 1 << 20): Promise<{ packets: Packet[]; error: Error | null }> {
  return new Promise((resolve) => {
    const d = new PacketDecoder(max);
    const packets: Packet[] = [];
    d.on('data', (p: Packet) => packets.push(p));
    d.on('error', (error) => resolve({ packets, error }));
    d.on('end', () => resolve({ packets, error: null }));
    for (const c of chunks) d.write(c);
    d.end();
  });
}

test('messages split across arbitrary chunk boundaries decode intact', async () => {
  const big = Buffer.alloc(100_000, 7);
  const wire = Buffer.concat([encode(1, [Buffer.from('hello'), big]), encode(2, [Buffer.from('x')]), encode(3, [])]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < wire.length; i += 997) chunks.push(wire.subarray(i, i + 997));
  const { packets, error } = await decodeAll(chunks);
  assert.equal(error, null);
  assert.deepEqual(packets.map((p) => p.id), [1, 2, 3]);
  assert.equal(packets[0]!.payload[0]!.toString(), 'hello');
  assert.ok(packets[0]!.payload[1]!.equals(big));
  assert.deepEqual(packets[2]!.payload, []);
});

test('a message above the bound is refused as soon as its length is known', async () => {
  const head = encode(1, [Buffer.alloc(10)]).subarray(0, 12);
  head.writeInt32BE(5000, 8); // announces a 5000-byte frame, sends none of it
  const { packets, error } = await decodeAll([head], 4096);
  assert.equal(packets.length, 0);
  assert.match(String(error?.message), /exceeds maxMessageBytes 4096/);
});

test('bytes that are not Avro IPC framing are refused', async () => {
  const { error } = await decodeAll([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
  assert.match(String(error?.message), /not an Avro IPC message/);
});
