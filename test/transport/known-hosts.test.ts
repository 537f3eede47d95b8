// known_hosts in OpenSSH's format: plain and hashed host names, [host]:port, replacing a host's keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addKnownKey, fingerprint, hostPattern, keyTypeOfBlob, knownKeys, removeKnownHost } from '../../src/transport/known-hosts.js';

const blob = (type: string, body: string) => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
};

test('records, finds (plain, hashed, with port) and removes host keys', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pifarm-kh-')), 'known_hosts');
  const k1 = blob('ssh-ed25519', 'one');
  assert.equal(keyTypeOfBlob(k1), 'ssh-ed25519');
  assert.equal(hostPattern('10.0.0.1', 22), '10.0.0.1');
  assert.equal(hostPattern('10.0.0.1', 2222), '[10.0.0.1]:2222');
  addKnownKey(file, '10.0.0.1', k1);
  addKnownKey(file, '[10.0.0.1]:2222', blob('ssh-rsa', 'two'));
  // a hashed line, as ssh-keygen -H writes them
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update('10.0.0.9').digest('base64');
  writeFileSync(file, readFileSync(file, 'utf8') + `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${blob('ssh-ed25519', 'three').toString('base64')}\n`);
  assert.deepEqual(knownKeys(file, '10.0.0.1').map((k) => [k.line, k.keyType]), [[1, 'ssh-ed25519']]);
  assert.deepEqual(knownKeys(file, '[10.0.0.1]:2222').map((k) => k.keyType), ['ssh-rsa']);
  assert.equal(knownKeys(file, '10.0.0.9')[0]!.line, 3);
  assert.equal(knownKeys(file, '10.0.0.2').length, 0);
  assert.match(fingerprint(k1), /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(removeKnownHost(file, '10.0.0.1'), 1);
  assert.equal(knownKeys(file, '10.0.0.1').length, 0);
  assert.equal(knownKeys(file, '[10.0.0.1]:2222').length, 1, 'other hosts stay');
});
