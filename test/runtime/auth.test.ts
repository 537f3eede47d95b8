import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticateClient, authenticateServer, readSecretFile, newSecretHex } from '../../src/runtime/auth.js';

const A = Buffer.alloc(32, 1);
const B = Buffer.alloc(32, 2);

/** A loopback server that authenticates, then echoes what follows; reports each outcome. */
async function echoServer(secret: Buffer) {
  const outcomes: string[] = [];
  const server = createServer((s) => {
    authenticateClient(s, secret, 1000).then(
      () => {
        outcomes.push('ok');
        s.pipe(s);
      },
      (e: Error) => {
        outcomes.push(e.message);
        s.destroy();
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { server, port, outcomes };
}

async function dial(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  return s;
}

test('peers with the same secret authenticate, and bytes after the handshake flow untouched', async () => {
  const { server, port, outcomes } = await echoServer(A);
  const s = await dial(port);
  await authenticateServer(s, A, 1000);
  s.write('hello after auth');
  const data = once(s, 'data');
  s.resume(); // the handshake leaves the socket paused; pipe() or resume() hands it on
  const [echoed] = await data;
  assert.equal(String(echoed), 'hello after auth');
  assert.deepEqual(outcomes, ['ok']);
  s.destroy();
  server.close();
});

test('a client with a wrong secret is refused, and learns no server proof', async () => {
  const { server, port, outcomes } = await echoServer(A);
  const s = await dial(port);
  await assert.rejects(authenticateServer(s, B, 1000), /connection closed during authentication/);
  assert.deepEqual(outcomes, ['peer does not hold the farm secret']);
  server.close();
});

test('a client that never authenticates (sends raw bytes) is refused before anything is read', async () => {
  const { server, port, outcomes } = await echoServer(A);
  const s = await dial(port);
  s.write(Buffer.alloc(68, 0x41));
  s.resume(); // consume the server's hello so the close is seen
  await once(s, 'close');
  assert.match(outcomes[0]!, /did not start the pifarm handshake/);
  const silent = await dial(port);
  silent.resume();
  await once(silent, 'close'); // times out after 1 s on the server
  assert.match(outcomes[1]!, /timed out/);
  server.close();
});

test('a client detects a server with the wrong secret', async () => {
  const server = createServer((s) => {
    authenticateClient(s, B, 1000).catch(() => s.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const s = await dial((server.address() as { port: number }).port);
  // The server refuses first (it checks the client's proof before proving itself).
  await assert.rejects(authenticateServer(s, A, 1000), /closed|does not hold/);
  server.close();
});

test('secret files: 0600 and 64 hex characters, else a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-secret-'));
  const f = join(dir, 'secret');
  writeFileSync(f, newSecretHex() + '\n', { mode: 0o600 });
  assert.equal(readSecretFile(f).length, 32);
  chmodSync(f, 0o644);
  assert.throws(() => readSecretFile(f), /readable by others \(mode 644\); run chmod 600/);
  writeFileSync(join(dir, 'bad'), 'nothex', { mode: 0o600 });
  assert.throws(() => readSecretFile(join(dir, 'bad')), /not 64 hex characters/);
  assert.throws(() => readSecretFile(join(dir, 'none')), /ENOENT/);
});
