// What a valid inventory becomes: defaults, group vars and host settings merged (later wins),
// ~ expanded, the documented defaults filled in, and the shipped examples all loading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import { hostAddress, resolveFarm } from '../../src/topology/resolve.js';
import { tempDir, writeInventory } from './helpers.js';

test('defaults < group vars < host settings; ~ expands; documented defaults', () => {
  const inv = loadInventory(
    writeInventory([
      'defaults:',
      '  identity: ~/.ssh/farm_key',
      '  ram: 1024',
      '  vars: { site: lab }',
      'groups:',
      '  pi4s:',
      '    hosts: [b]',
      '    vars: { ram: 4096, gflops: 12.6, user: ubuntu, vars: { rack: 2 } }',
      'hosts:',
      '  a: 192.168.1.3',
      '  b: { address: 192.168.1.4, user: alice, port: 2222, jump: a, power: { idle: 2.7, busy: 6.4 } }',
      'farm:',
      '  model: vgg16',
      '  topology: auto',
    ]),
  );
  const [a, b] = inv.hosts;
  assert.equal(a!.identity, join(homedir(), '.ssh/farm_key'));
  assert.deepEqual([a!.user, a!.port, a!.ramMb, a!.agent, a!.groups], ['pi', 22, 1024, false, []]);
  assert.deepEqual([b!.user, b!.port, b!.ramMb, b!.gflops, b!.jump, b!.groups], ['alice', 2222, 4096, 12.6, 'a', ['pi4s']]);
  assert.deepEqual(b!.vars, { site: 'lab', rack: 2 });
  assert.deepEqual(b!.power, { idleW: 2.7, busyW: 6.4 });
  assert.deepEqual(inv.farm, { model: 'vgg16', topology: 'auto', sender: 'local', ports: { node: 12345, sender: 9999 }, engine: 'auto', seed: 2018 });
  assert.deepEqual(inv.groups, { pi4s: ['b'] });
});

test('every shipped inventory loads and resolves', () => {
  const dir = new URL('../../../inventory/', import.meta.url).pathname;
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 5, `expected the five example inventories, found ${files.join(', ')}`);
  for (const f of files) {
    const farm = resolveFarm(loadInventory(join(dir, f)));
    const nodes = farm.stages.reduce((n, s) => n + s.replicas * s.shards, 0);
    assert.equal(farm.placements.length, nodes, f);
  }
});

test('processes sharing a host get distinct ports from farm.ports.node up, skipping the sender port', () => {
  const inv = loadInventory(writeInventory(['hosts: { local: { local: true } }', 'farm: { model: alexnet, topology: alexnet-6, ports: { node: 9997, sender: 9999 } }']));
  const farm = resolveFarm(inv);
  assert.deepEqual(
    farm.placements.map((p) => [p.role, p.replica, p.shard, p.port]),
    [['block1', 0, 0, 9997], ['block1', 1, 0, 9998], ['fc1', 0, 0, 10000], ['fc1', 0, 1, 10001], ['fc2', 0, 0, 10002]],
  );
  assert.deepEqual(farm.sender, { host: 'local', port: 9999 });
});

test('without an assignment, hosts are used in inventory order, the sender host excluded', () => {
  const inv = loadInventory(writeInventory(['hosts: { s: 10.0.0.1, a: 10.0.0.2, b: 10.0.0.3, c: 10.0.0.4, d: 10.0.0.5 }', 'farm: { model: alexnet, topology: alexnet-5, sender: s }']));
  const farm = resolveFarm(inv);
  assert.deepEqual(
    farm.placements.map((p) => `${p.host}:${p.role}.${p.replica}.${p.shard}@${p.port}`),
    ['a:block1.0.0@12345', 'b:fc1.0.0@12345', 'c:fc1.0.1@12345', 'd:fc2.0.0@12345'],
  );
});

test('topology auto plans for the hosts; a topology file is read relative to the inventory', () => {
  const auto = resolveFarm(loadInventory(writeInventory(['hosts: { a: 10.0.0.2, b: 10.0.0.3, c: 10.0.0.4, d: { address: 10.0.0.5, gflops: 12.6, ram: 4096 } }', 'farm: { model: alexnet }'])));
  assert.equal(auto.topologyName, 'auto');
  assert.equal(new Set(auto.placements.map((p) => p.host)).size, auto.placements.length, 'one process per host');
  writeInventory(['model: alexnet', 'stages:', '  - { role: convs, layers: conv1..flatten, replicas: 2 }', '  - { role: dense, layers: fc1..fc3 }'], 'mine.yaml');
  const fromFile = resolveFarm(loadInventory(writeInventory(['hosts: { local: { local: true } }', 'farm: { model: alexnet, topology: ./mine.yaml }'])));
  assert.deepEqual(fromFile.stages.map((s) => s.role), ['convs', 'dense']);
  assert.equal(fromFile.topologyName, './mine.yaml');
});

test("the complete example of the README's inventory section loads and resolves", () => {
  const doc = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## The inventory'));
  const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
  const farm = resolveFarm(loadInventory(writeInventory(example.split('\n'), 'doc-example.yaml')));
  assert.equal(farm.topologyName, 'alexnet-6');
  assert.deepEqual(farm.placements.map((p) => p.host), ['pi1', 'pi5', 'pi2', 'pi3', 'pi4']);
  assert.equal(farm.inventory.hosts.find((h) => h.name === 'pi4')!.jump, 'bastion');
});

test('a host with slots runs that many processes on consecutive ports; hostAddress names each host', () => {
  const inv = loadInventory(writeInventory(['hosts: { big: { address: 10.0.0.2, slots: 3 }, small: 10.0.0.3 }', 'farm: { model: alexnet, topology: alexnet-5 }']));
  const farm = resolveFarm(inv);
  assert.deepEqual(
    farm.placements.map((p) => `${p.host}:${p.role}.${p.shard}@${p.port}`),
    ['big:block1.0@12345', 'big:fc1.0@12346', 'big:fc1.1@12347', 'small:fc2.0@12345'],
  );
  assert.equal(hostAddress(farm, 'small'), '10.0.0.3');
  assert.equal(hostAddress(farm, 'local'), '127.0.0.1');
  assert.throws(() => hostAddress(farm, 'nobody'), /unknown host "nobody"/);
});

test('farm.source: what the sender streams; a local file is found from the inventory folder, a Pi path and a camera as given', () => {
  const farm = (source: string, sender = 'local') => [
    'hosts:',
    '  pi1: 192.168.1.3',
    '  pi2: 192.168.1.4',
    'farm:',
    '  model: alexnet',
    '  topology: auto',
    `  sender: ${sender}`,
    `  source: ${source}`,
  ];
  const file = writeInventory(farm('clips/yard.mp4'));
  assert.equal(loadInventory(file).farm.source, join(tempDir(), 'clips/yard.mp4'));
  assert.equal(loadInventory(writeInventory(farm('camera:1280x720'))).farm.source, 'camera:1280x720');
  assert.equal(loadInventory(writeInventory(farm('rtsp://cam.local/stream'))).farm.source, 'rtsp://cam.local/stream');
  assert.equal(loadInventory(writeInventory(farm('clips/yard.mp4', 'pi1'))).farm.source, 'clips/yard.mp4');
  assert.throws(() => loadInventory(writeInventory(farm('[1, 2]'))), /:8:\d+: farm\.source: expected what the sender streams/);
});
