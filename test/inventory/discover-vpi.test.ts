// pifarm discover on the test bridge: virtual Pis run avahi-daemon announcing _ssh._tcp (as a
// fresh Raspberry Pi OS does); discover asks on the bridge's address only (10.99.0.1), so no
// question leaves the test network, lists them, and --add writes them into an inventory that
// keeps its own entries and comments and loads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { loadHosts } from '../../src/inventory/load.js';
import { pifarm } from '../farm/helpers.js';
import type { FoundHost } from '../../src/inventory/discover.js';

const BRIDGE_ADDRESS = '10.99.0.1';
let pis: VirtualPis;
let dir: string;

before(async () => {
  pis = await startVirtualPis(2);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-discover-'));
  for (const h of pis.hosts) {
    // Debian's example is the service file Raspberry Pi OS ships
    const r = await pis.exec(h.name, 'cp /usr/share/doc/avahi-daemon/examples/ssh.service /etc/avahi/services/ && systemctl restart avahi-daemon && systemctl is-active avahi-daemon');
    assert.equal(r.code, 0, `${h.name}: ${r.stdout}${r.stderr}`);
  }
});
after(async () => {
  await pis?.teardown();
});

test('discover finds the announcing virtual Pis and --add appends them to an inventory, leaving its entries alone', async () => {
  const inv = join(dir, 'farm.yaml');
  writeFileSync(inv, '# the farm by the window\nhosts:\n  pi1: 192.0.2.5 # the old Pi 3\n  vpi2: 10.99.0.12\n');
  let found: FoundHost[] = [];
  let out = { added: [] as { name: string; address: string }[], alreadyThere: [] as string[] };
  // avahi announces within a second or two of its start: ask until both have answered
  for (let i = 0; i < 5 && found.length < 2; i++) {
    const r = await pifarm(['discover', '--interface', BRIDGE_ADDRESS, '--subnet', '10.99.0.0/24', '--timeout', '2', '--json', '--add', inv], dir);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { hosts: FoundHost[]; added: typeof out.added; alreadyThere: string[] };
    found = j.hosts;
    if (j.added.length) out = { added: [...out.added, ...j.added], alreadyThere: j.alreadyThere };
  }
  assert.deepEqual(found.map((h) => [h.name, h.mdnsName, h.address, h.port]), pis.hosts.map((h) => [h.name, `${h.name}.local`, h.address, 22]));
  assert.deepEqual(out.added, [{ name: 'vpi1', address: pis.hosts[0]!.address }]);
  const text = readFileSync(inv, 'utf8');
  assert.match(text, /^# the farm by the window\n/);
  assert.match(text, /pi1: 192\.0\.2\.5 # the old Pi 3\n/);
  assert.deepEqual(loadHosts(inv).hosts.map((h) => [h.name, h.address]), [['pi1', '192.0.2.5'], ['vpi2', '10.99.0.12'], ['vpi1', '10.99.0.11']]);

  // again: nothing new, nothing written twice
  const again = await pifarm(['discover', '--interface', BRIDGE_ADDRESS, '--timeout', '2', '--add', inv], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /nothing to add \(already there: vpi1, vpi2\)/);
  assert.equal(readFileSync(inv, 'utf8'), text);
});

test('a subnet that holds none of them finds nothing; a wrong one is an error before any question is sent', async () => {
  const none = await pifarm(['discover', '--interface', BRIDGE_ADDRESS, '--subnet', '192.168.0.0/16', '--timeout', '1'], dir);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^no SSH host answered in 192\.168\.0\.0\/16$/m);
  const bad = await pifarm(['discover', '--interface', BRIDGE_ADDRESS, '--subnet', '10.99.0.0/33'], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--subnet: expected an IPv4 network like 192\.168\.1\.0\/24, got "10\.99\.0\.0\/33"/);
});
