// A node's config file, checked before it starts: the failover timeout a slow farm sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNodeConfig } from '../../src/runtime/config.js';
import { at, nodeConfig } from './node-config.js';

const base = nodeConfig({ listen: at(7001), sender: at(7000) });

test('failTimeoutMs: kept when valid, refused naming the file and the field when not', () => {
  assert.equal(validateNodeConfig({ ...base, failTimeoutMs: 25_000 }, 'n.json').failTimeoutMs, 25_000);
  assert.equal(validateNodeConfig(base, 'n.json').failTimeoutMs, undefined);
  assert.throws(() => validateNodeConfig({ ...base, failTimeoutMs: 0 }, '/etc/pifarm/e1.json'), /\/etc\/pifarm\/e1\.json: failTimeoutMs: expected an integer >= 1, got 0/);
  assert.throws(() => validateNodeConfig({ ...base, failTimeoutMs: '2s' }, 'n.json'), /n\.json: failTimeoutMs: expected an integer >= 1, got "2s"/);
});
