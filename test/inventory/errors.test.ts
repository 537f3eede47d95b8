// Every inventory error the issue lists: each names FILE:LINE:COL, the field, and what was expected.
import { test } from 'node:test';
import { defaultModelsDir } from '../../src/model/imported.js';
import assert from 'node:assert/strict';
import { loadInventory, InventoryError } from '../../src/inventory/load.js';
import { farm5, tempDir, writeInventory } from './helpers.js';

/** The messages loadInventory throws for these lines, with the file name cut to "F". */
function errors(lines: string[]): string[] {
  const f = writeInventory(lines);
  try {
    loadInventory(f);
  } catch (e) {
    assert.ok(e instanceof InventoryError, `expected an InventoryError, got ${String(e)}`);
    return e.message.split('\n').map((m) => m.split(f).join('F'));
  }
  assert.fail('expected the inventory to be refused');
}

const edit = (i: number, line: string, lines = farm5()): string[] => lines.map((l, j) => (j === i - 1 ? line : l));

test('the base farm-5 inventory loads', () => {
  const inv = loadInventory(writeInventory(farm5()));
  assert.equal(inv.hosts.length, 4);
  assert.deepEqual(inv.farm.assignment, { block1: ['pi1'], fc1: ['pi2', 'pi3'], fc2: ['pi4'] });
});

test('unknown keys, at the top, on a host and in farm', () => {
  assert.deepEqual(errors(['hostz: {}', ...farm5()]), ['F:1:1: hostz: unknown key "hostz"; expected one of hosts, defaults, groups, farm, ssh']);
  assert.deepEqual(errors(edit(4, '  pi1: { address: 192.168.1.3, prot: 2222 }')), [
    'F:4:32: hosts.pi1.prot: unknown key "prot"; expected one of address, port, user, identity, agent, jump, arch, ram, cores, gflops, power, slots, local, engine, image, vars',
  ]);
  assert.deepEqual(errors([...farm5(), '  engin: onnx']), ['F:15:3: farm.engin: unknown key "engin"; expected one of model, topology, assignment, sender, ports, engine, threads, seed, models, source']);
});

test('an all-numeric dotted address that is not IPv4, as a scalar and in a mapping', () => {
  assert.deepEqual(errors(edit(4, '  pi1: 10.0.0.300')), ['F:4:8: hosts.pi1: "10.0.0.300" is not a valid IPv4 address (four numbers from 0 to 255); expected an IPv4 address or a host name']);
  assert.deepEqual(errors(edit(5, '  pi2: { address: 192.168.1 }')), ['F:5:19: hosts.pi2.address: "192.168.1" is not a valid IPv4 address (four numbers from 0 to 255); expected an IPv4 address or a host name']);
  // names with letters stay names
  assert.equal(loadInventory(writeInventory(edit(4, '  pi1: pi1.local'))).hosts[0]!.address, 'pi1.local');
});

test('duplicate host names', () => {
  assert.deepEqual(errors(edit(5, '  pi1: 192.168.1.4')), [
    'F:5:3: hosts.pi1: duplicate host name "pi1" (first defined at line 4)',
    'F:13:11: farm.assignment.fc1.0: unknown host "pi2"; hosts: pi1, pi3, pi4',
  ]);
});

test('a host without an address', () => {
  assert.deepEqual(errors(edit(6, '  pi3: { user: alice }')), [
    "F:6:3: hosts.pi3.address: expected the host's address (an IP address or DNS name), a HostName for it in ~/.ssh/config, or local: true for the control machine",
    'F:13:16: farm.assignment.fc1.1: unknown host "pi3"; hosts: pi1, pi2, pi4',
  ]);
  assert.deepEqual(errors(edit(6, '  pi3:')), ["F:6:3: hosts.pi3.address: expected the host's address (an IP address or DNS name), a HostName for it in ~/.ssh/config, or local: true for the control machine", 'F:13:16: farm.assignment.fc1.1: unknown host "pi3"; hosts: pi1, pi2, pi4']);
});

test('an assignment to a role the topology does not have', () => {
  assert.deepEqual(errors(edit(12, '    block12345: [pi1]')), [
    'F:11:3: farm.assignment: roles without hosts: block1 (expected 1); assign every role, or remove assignment to let pifarm assign',
    'F:12:5: farm.assignment.block12345: role "block12345" is not in topology alexnet-5; its roles are block1, fc1, fc2',
  ]);
});

test('a role with the wrong number of hosts for its replicas and shards', () => {
  assert.deepEqual(errors(edit(13, '    fc1: [pi2]')), ['F:13:10: farm.assignment.fc1: role fc1 of alexnet-5 runs 1 replica x 2 shards, so expected 2 hosts, got 1']);
  const six = edit(10, '  topology: alexnet-6', [...farm5(), '  sender: pi1']);
  assert.deepEqual(errors(six.map((l) => (l === '  sender: pi1' ? '  sender: local' : l))), ['F:12:13: farm.assignment.block1: role block1 of alexnet-6 runs 2 replicas x 1 shard, so expected 2 hosts, got 1']);
});

test('a host used twice where that is not allowed, and where slots allow it', () => {
  assert.deepEqual(errors(edit(14, '    fc2: [pi2]')), [
    'F:14:11: farm.assignment.fc2.0: host "pi2" is already used by fc1; a host runs one process (one device per role instance, as in the paper) unless it says slots: N or local: true',
  ]);
  // the sender counts as one use of its host
  assert.deepEqual(errors([...farm5(), '  sender: pi4']), [
    'F:14:11: farm.assignment.fc2.0: host "pi4" is already used by the sender; a host runs one process (one device per role instance, as in the paper) unless it says slots: N or local: true',
  ]);
  const inv = loadInventory(writeInventory(edit(5, '  pi2: { address: 192.168.1.4, slots: 2 }', edit(14, '    fc2: [pi2]'))));
  assert.deepEqual(inv.farm.assignment!.fc2, ['pi2']);
});

test('a sender host that does not exist', () => {
  assert.deepEqual(errors([...farm5(), '  sender: pi9']), ['F:15:11: farm.sender: unknown host "pi9"; expected "local" (this machine) or one of: pi1, pi2, pi3, pi4']);
});

test('several errors are reported together, in file order', () => {
  const lines = edit(4, '  pi1: { address: 192.168.1.3, port: 70000 }', edit(9, '  model: resnet'));
  assert.deepEqual(errors(lines), ['F:4:38: hosts.pi1.port: expected the SSH port, an integer from 1 to 65535', `F:9:10: farm.model: expected the model: alexnet or vgg16, or a model imported into ${defaultModelsDir()} (pifarm model import)`]);
});

test('wrong types and values name what was expected', () => {
  assert.deepEqual(errors(edit(2, '  power: { idle: 3 }')), ['F:2:10: defaults.power: expected both idle and busy watts']);
  assert.deepEqual(errors(edit(2, '  image: { wifi: { ssid: farm } }')), ['F:2:18: defaults.image.wifi.country: expected an ISO 3166-1 alpha-2 country code such as GB or US (Wi-Fi channels depend on it)']);
  assert.deepEqual(errors(edit(2, '  image: { wifi: { ssid: farm, country: gb } }')), ['F:2:41: defaults.image.wifi.country: expected an ISO 3166-1 alpha-2 country code such as GB or US']);
  assert.deepEqual(errors(edit(10, '  topology: vgg16-9')), ['F:10:13: farm.topology: preset vgg16-9 is for vgg16, but farm.model is alexnet; presets of alexnet: alexnet-5, alexnet-6']);
  assert.deepEqual(errors(edit(10, '  topology: fastest')), ['F:10:13: farm.topology: unknown topology "fastest"; expected a preset of alexnet (alexnet-5, alexnet-6), "auto", or the path of a topology file']);
  assert.deepEqual(errors(['hosts:', '  pi1: [1, 2]', 'farm: { model: alexnet }']), ['F:2:8: hosts.pi1: expected an address, or a mapping {address, port, user, identity, ...}']);
  assert.deepEqual(errors(['hosts:', '  pi1: { address: a, jump: bastion }', 'farm: { model: alexnet }']), ['F:2:28: hosts.pi1.jump: unknown host "bastion"; expected an inventory host name or user@host:port']);
  assert.deepEqual(errors(['hosts: { pi1: a }', 'farm: { model: alexnet, topology: alexnet-5 }']), [
    'F:2:35: farm.topology: alexnet-5 needs 4 node processes, but the hosts offer 1 (one each unless a host says slots: N or local: true); add hosts or choose a smaller topology',
  ]);
  assert.match(errors(['hosts:', '  pi1: a', '   bad: ['])[0]!, /^F:2:8: YAML syntax: Nested mappings are not allowed/);
  assert.match(errors(['hosts:', '  pi1: a', '  - b'])[0]!, /^F:3:1: YAML syntax: A block sequence may not be used as an implicit map key/);
  assert.deepEqual(errors(['hosts: { local: { local: true } }', 'farm: { model: alexnet, topology: auto }']), [
    'F:1:10: hosts.local: topology "auto" plans for a number of devices: add slots: N to say how many node processes this local host may run',
  ]);
  assert.deepEqual(errors(['hosts: { s: 10.0.0.1 }', 'farm: { model: alexnet, sender: s }']), [
    "F:2:7: farm.topology: topology \"auto\" found no host to run nodes on (the sender's host runs only the sender); add hosts",
  ]);
});

test('a topology file with errors: its own positions, and where the inventory names it', () => {
  writeInventory(['model: alexnet', 'stages:', '  - { role: all, layers: conv1..fc3, shards: 2 }'], 'broken-topology.yaml');
  const msgs = errors(['hosts: { local: { local: true } }', 'farm:', '  model: alexnet', '  topology: broken-topology.yaml']);
  assert.equal(msgs[0], 'F:4:13: farm.topology: the topology file broken-topology.yaml has errors:');
  assert.equal(msgs[1], `${tempDir()}/broken-topology.yaml:3:5: stages.0: shards: only a stage of exactly one dense layer can be split across devices`);
  const missing = errors(['hosts: { local: { local: true } }', 'farm: { model: alexnet, topology: ./nowhere.yaml }']);
  assert.deepEqual(missing, [`F:2:35: farm.topology: topology file ${tempDir()}/nowhere.yaml does not exist; expected a preset name, "auto", or the path of a file written by pifarm plan`]);
});
