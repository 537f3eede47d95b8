// The Pi sender's config (runtime/sender-main.ts) as the control side writes it: a bad source or
// deadline is an error naming the file and the field, before anything streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSenderConfig } from '../../src/runtime/sender-main.js';

const good = {
  model: 'alexnet',
  first: { role: 'block1', mode: 'replicas', endpoints: [{ host: '10.0.0.2', port: 5001 }] },
  lastShards: 1,
  listen: { host: '0.0.0.0', port: 19999 },
  frames: 10,
  warmup: 1,
  seed: 1,
  balance: 'round-robin',
  maxMessageBytes: 16 << 20,
  mergeTimeoutMs: 5000,
  mergeCapacity: 64,
};

test('a sender config with a source and a deadline passes; a bad one names the field', () => {
  assert.equal(validateSenderConfig({ ...good, source: 'camera:1280x720', deadlineMs: 500 }, 's.json').source, 'camera:1280x720');
  assert.throws(() => validateSenderConfig({ ...good, source: 3 }, 's.json'), /^Error: s\.json: source: expected a source spec/);
  assert.throws(() => validateSenderConfig({ ...good, source: '' }, 's.json'), /s\.json: source:/);
  assert.throws(() => validateSenderConfig({ ...good, deadlineMs: -1 }, 's.json'), /s\.json: deadlineMs: expected milliseconds > 0/);
});
