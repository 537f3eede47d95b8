// The pure parts of discover: mDNS records to hosts, and appending hosts to an inventory file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostsFromRecords, subnetOf } from '../../src/inventory/discover.js';
import { appendHosts } from '../../src/inventory/append-hosts.js';
import { loadHosts } from '../../src/inventory/load.js';

test('records: PTR -> SRV -> A make a host; a service without an address or SRV is left out', () => {
  const hosts = hostsFromRecords([
    { name: '_ssh._tcp.local', type: 'PTR', data: 'raspberrypi._ssh._tcp.local' },
    { name: 'raspberrypi._ssh._tcp.local', type: 'SRV', data: { target: 'raspberrypi.local', port: 22 } },
    { name: 'raspberrypi.local', type: 'A', data: '192.168.1.23' },
    { name: '_ssh._tcp.local', type: 'PTR', data: 'pi5._ssh._tcp.local' },
    { name: 'pi5._ssh._tcp.local', type: 'SRV', data: { target: 'pi5.local', port: 2222 } },
    { name: '_ssh._tcp.local', type: 'PTR', data: 'lost._ssh._tcp.local' },
  ]);
  assert.deepEqual(hosts, [{ name: 'raspberrypi', mdnsName: 'raspberrypi.local', address: '192.168.1.23', port: 22 }]);
  assert.ok(subnetOf('192.168.1.0/24').check('192.168.1.23', 'ipv4'));
  assert.ok(!subnetOf('192.168.1.0/24').check('192.168.2.1', 'ipv4'));
  assert.throws(() => subnetOf('192.168.1.0'), /--subnet: expected an IPv4 network like 192\.168\.1\.0\/24, got "192\.168\.1\.0"/);
});

test('append: a new file is a hosts-only inventory; a taken name gets -2; a port other than 22 is kept; a broken file is left alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-append-'));
  const fresh = join(dir, 'new.yaml');
  const a = appendHosts(fresh, [
    { name: 'raspberrypi', mdnsName: 'raspberrypi.local', address: '192.168.1.23', port: 22 },
    { name: 'pi5', mdnsName: 'pi5.local', address: '192.168.1.30', port: 2222 },
  ]);
  assert.deepEqual(a.added.map((x) => x.name), ['raspberrypi', 'pi5']);
  assert.deepEqual(loadHosts(fresh).hosts.map((h) => [h.name, h.address, h.port]), [['raspberrypi', '192.168.1.23', 22], ['pi5', '192.168.1.30', 2222]]);

  const b = appendHosts(fresh, [{ name: 'raspberrypi', mdnsName: 'raspberrypi-2.local', address: '192.168.1.24', port: 22 }]);
  assert.deepEqual(b.added, [{ name: 'raspberrypi-2', address: '192.168.1.24' }]);

  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'hosts: [unclosed\n');
  assert.throws(() => appendHosts(broken, [{ name: 'x', mdnsName: 'x.local', address: '192.168.1.9', port: 22 }]), /broken\.yaml: not valid YAML/);
  assert.equal(readFileSync(broken, 'utf8'), 'hosts: [unclosed\n');
  assert.ok(!existsSync(`${broken}.pifarm-tmp`));
});
