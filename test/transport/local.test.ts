// The local transport (child_process): the same behaviour as SSH for hosts that are this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalTransport } from '../../src/transport/local.js';
import { TransportError } from '../../src/transport/transport.js';

const t = new LocalTransport('here');
const dir = mkdtempSync(join(tmpdir(), 'pifarm-local-'));

test('runs commands with exit code, stdout, stderr, stdin, cwd and streaming', async () => {
  const r = await t.exec('echo out; echo err >&2; exit 4');
  assert.deepEqual([r.code, r.stdout, r.stderr], [4, 'out\n', 'err\n']);
  assert.equal((await t.exec('cat', { stdin: 'abc' })).stdout, 'abc');
  assert.equal((await t.exec('pwd', { cwd: dir })).stdout.trim(), dir);
  const seen: string[] = [];
  await t.exec('echo a; echo b', { onStdout: (d) => seen.push(d.toString()) });
  assert.equal(seen.join(''), 'a\nb\n');
});

test('a command past its timeout is a TransportError naming the host', async () => {
  await assert.rejects(t.exec('sleep 5', { timeoutMs: 200 }), (e: Error) => e instanceof TransportError && /^here: command timed out/.test(e.message));
});

test('puts, gets and pipes files', async () => {
  await t.putContent('hello', join(dir, 'a/b/c.txt'), 0o600);
  assert.equal(readFileSync(join(dir, 'a/b/c.txt'), 'utf8'), 'hello');
  assert.equal(statSync(join(dir, 'a/b/c.txt')).mode & 0o777, 0o600);
  writeFileSync(join(dir, 'src.bin'), Buffer.alloc(5000, 1));
  await t.putFile(join(dir, 'src.bin'), join(dir, 'copy/dst.bin'));
  await t.getFile(join(dir, 'copy/dst.bin'), join(dir, 'back.bin'));
  assert.equal(statSync(join(dir, 'back.bin')).size, 5000);
  assert.equal((await t.pipeTo('wc -c', Readable.from([Buffer.alloc(10), Buffer.alloc(7)]))).stdout.trim(), '17');
  await assert.rejects(t.getFile(join(dir, 'missing'), join(dir, 'x')), (e: Error) => e instanceof TransportError && /cannot read/.test(e.message));
});
