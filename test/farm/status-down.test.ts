// `pifarm status` with a host that cannot be reached (nothing listens on its SSH port): the host
// is listed with its nodes as unreachable and the reason, next to the hosts that answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { statusCommand } from '../../src/farm/commands.js';
import { freePorts } from '../../src/lab/local-ports.js';

test('status shows a host that is down, with its nodes, and keeps the others', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-status-'));
  const [deadSsh] = await freePorts(1); // free: nothing answers there
  const inv = join(dir, 'farm.yaml');
  writeFileSync(inv, [
    'hosts:',
    '  local:',
    '    local: true',
    '  pi-gone:',
    '    address: 127.0.0.1',
    `    port: ${deadSsh}`,
    '    user: pi',
    `    identity: ${join(dir, 'no-key')}`,
    'farm:',
    '  model: alexnet',
    '  topology: alexnet-5',
    '  sender: local',
    '  assignment:',
    '    block1: [pi-gone]',
    '    fc1: [local, local]',
    '    fc2: [local]',
    '',
  ].join('\n'));
  const r = await statusCommand({ inventoryFile: inv, stateDir: join(dir, 'state'), json: true });
  const gone = r.status!.find((h) => h.host === 'pi-gone');
  assert.ok(gone, 'the unreachable host is listed');
  assert.ok(gone.down && gone.down.length > 0, 'with the reason');
  assert.deepEqual(gone.nodes.map((n) => [n.instance, n.active, n.answers]), [['block1-0-0', 'unreachable', false]]);
  assert.ok(r.status!.some((h) => h.host === 'local' && h.nodes.length === 3), 'the reachable host is listed too');
  assert.ok(r.failed.includes('pi-gone'));
});
