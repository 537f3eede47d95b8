// provision needs the hosts only: a new Pi in an inventory without a farm section, or with a
// farm that does not fit the hosts yet, is provisioned; deploy is where the farm must resolve.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { pifarm } from './helpers.js';

let pis: VirtualPis;
let dir: string;

before(async () => {
  pis = await startVirtualPis(1);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-prov-hosts-'));
});
after(async () => {
  await pis?.teardown();
});

const hostsPart = () => `defaults:\n  user: root\n  identity: ${pis.keyPath}\nhosts:\n  vpi1: ${pis.hosts[0]!.address}\n`;

test('provision of one host from an inventory without a farm section', async () => {
  const inv = join(dir, 'new-pi.yaml');
  writeFileSync(inv, hostsPart());
  const env = { PIFARM_STATE_DIR: join(dir, 'state') };
  const r = await pifarm(['provision', '-i', inv, '--offline', '--json'], dir, env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const steps = (JSON.parse(r.stdout) as { runs: { results: { step: string; status: string }[] }[] }).runs[0]!.results;
  assert.deepEqual(steps.map((s) => s.step), ['first boot', 'packages', 'runtime', 'user+folders', 'firewall', 'unit']);
  assert.ok(steps.every((s) => s.status !== 'failed'), JSON.stringify(steps));
  // deploy is where the farm must be there, and it says so with file and line
  const d = await pifarm(['deploy', '-i', inv], dir, env);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /new-pi\.yaml.*farm/);
});

test('provision with a farm that does not fit the hosts yet (alexnet-5 on one Pi) provisions the host', async () => {
  const inv = join(dir, 'growing.yaml');
  writeFileSync(inv, `${hostsPart()}farm:\n  model: alexnet\n  topology: alexnet-5\n  sender: local\n`);
  const env = { PIFARM_STATE_DIR: join(dir, 'state') };
  const r = await pifarm(['provision', '-i', inv, '--offline'], dir, env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const d = await pifarm(['deploy', '-i', inv], dir, env);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /alexnet-5 needs 4 node processes/);
});
