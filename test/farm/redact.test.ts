// Redaction of secrets in fetched log lines (pure logic): the farm secret, the inventory's secret
// environment variables, keyed secrets and password hashes; ordinary lines stay as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { farmSecrets, redactor, REDACTED } from '../../src/farm/redact.js';
import type { HostSpec, Inventory } from '../../src/inventory/types.js';

const host = (name: string, image: HostSpec['image']): HostSpec => ({ name, address: '10.99.0.11', port: 22, user: 'pi', agent: false, groups: [], vars: {}, image });
const inv: Inventory = {
  file: '/x/farm.yaml',
  groups: {},
  farm: { model: 'alexnet', topology: 'alexnet-6', sender: 'local' } as Inventory['farm'],
  hosts: [
    host('pi1', { passwordEnv: 'PI_PASSWORD', wifi: { ssid: 'lab', country: 'FR', passphraseEnv: 'LAB_WIFI' } }),
    host('pi2', { passwordHash: '$6$saltsalt$abcdefghijklmnopqrstuvwxyz0123456789' }),
  ],
};
const farmHex = 'a1'.repeat(32);
const env = { PI_PASSWORD: 'hunter2hunter2', LAB_WIFI: 'correct horse battery', OTHER: 'not-a-secret' };

test('the farm secret and the inventory\'s secret variables are cut out of a line, wherever they are', () => {
  const secrets = farmSecrets(inv, farmHex, env);
  assert.deepEqual(new Set(secrets), new Set([farmHex, 'hunter2hunter2', 'correct horse battery', '$6$saltsalt$abcdefghijklmnopqrstuvwxyz0123456789']));
  const r = redactor(secrets);
  const line = `2026-11-26T20:00:00 pi1 node[12]: secret file holds ${farmHex}; wifi "correct horse battery" joined; login hunter2hunter2`;
  const out = r(line);
  for (const s of secrets) assert.equal(out.includes(s), false, `${s} is gone`);
  assert.equal(out.split(REDACTED).length - 1, 3);
  assert.match(out, /^2026-11-26T20:00:00 pi1 node\[12\]: secret file holds \[redacted\]; wifi "\[redacted\]" joined; login \[redacted\]$/);
});

test('keyed secrets and password hashes are redacted whatever their value; ordinary lines are untouched', () => {
  const r = redactor([]);
  assert.equal(r('wpa_supplicant: psk=0123456789abcdef ssid=lab'), `wpa_supplicant: psk=${REDACTED} ssid=lab`);
  assert.equal(r('env: PIFARM_SECRET=deadbeef00 PATH=/usr/bin'), `env: PIFARM_SECRET=${REDACTED} PATH=/usr/bin`);
  assert.equal(r('chpasswd: password: "s3cr3t!"'), `chpasswd: password: "${REDACTED}"`);
  assert.equal(r('usermod -p $y$j9T$abcdefghijklmnop$qrstuvwxyz pi'), `usermod -p ${REDACTED} pi`);
  const plain = 'fc1 replica 0 shard 1/2: ready on 0.0.0.0:12346, onnxruntime 1.23 (1 thread), rss 214 MB';
  assert.equal(r(plain), plain);
  assert.equal(r('frame 12: dropped, 1 of 2 shards (timeout)'), 'frame 12: dropped, 1 of 2 shards (timeout)');
});

test('unset or short variables redact nothing by accident', () => {
  const secrets = farmSecrets(inv, undefined, { PI_PASSWORD: 'pi' });
  assert.deepEqual(secrets, ['$6$saltsalt$abcdefghijklmnopqrstuvwxyz0123456789']);
  assert.equal(redactor(secrets)('pi1 is up'), 'pi1 is up');
});
