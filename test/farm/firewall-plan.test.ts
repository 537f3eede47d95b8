// The firewall plan of every host (what provision's firewall step opens, tested on nftables in
// test/provision/steps.test.ts): its node ports, the sender's result port on the sender's host,
// and as sources only the farm's other hosts and the control machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { planFarm } from '../../src/farm/plan.js';

test('farm-6: node ports and the sender port are opened to the farm\'s own hosts only', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'pifarm-fw-'));
  const plan = await planFarm({ inventoryFile: resolve('inventory/farm-6.yaml'), stateDir, controlAddress: '192.168.1.2' });
  const farmAddresses = new Set([...plan.hosts.map((h) => h.address), '192.168.1.2']);
  const byHost = Object.fromEntries([...plan.plans].map(([name, p]) => [name, p]));
  assert.deepEqual(byHost.sender!.ports, [9999], 'the sender host opens its result port');
  for (const name of ['pi-block1a', 'pi-block1b', 'pi-fc1a', 'pi-fc1b', 'pi-fc2']) assert.deepEqual(byHost[name]!.ports, [12345], name);
  for (const h of plan.hosts) {
    const p = byHost[h.name]!;
    assert.ok(!p.peers.includes(h.address), `${h.name} does not list itself`);
    assert.deepEqual(new Set(p.peers), new Set([...farmAddresses].filter((a) => a !== h.address)), `${h.name}: sources are the farm's hosts and the control machine`);
  }
});
