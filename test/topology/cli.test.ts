// The commands end to end, as a user runs them: inventory check and import, plan, and a planned
// topology run by `pifarm demo --topology` with its output check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pifarm-cli-'));

function pifarm(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('inventory check prints the resolved farm, or every error with file:line:col', () => {
  const ok = pifarm('inventory', 'check', '-i', 'inventory/farm-6.yaml');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /topology alexnet-6/);
  assert.match(ok.out, /^block1 +1 +0 +pi-block1b +192\.168\.1\.9:12345$/m);
  assert.match(ok.out, /^fc1 +0 +1 +pi-fc1b +192\.168\.1\.5:12345$/m);
  assert.match(ok.out, /5 node processes \+ the sender = 6 devices/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, ['hosts:', '  a: 10.0.0.1', 'farm:', '  model: alexnet', '  topology: alexnet-5', '  sender: b', ''].join('\n'));
  const r = pifarm('inventory', 'check', '-i', bad);
  assert.equal(r.code, 1);
  assert.equal(r.err, [`${bad}:5:13: farm.topology: alexnet-5 needs 4 node processes, but the hosts offer 1 (one each unless a host says slots: N or local: true); add hosts or choose a smaller topology`, `${bad}:6:11: farm.sender: unknown host "b"; expected "local" (this machine) or one of: a`, `2 errors in ${bad}`, ''].join('\n'));
});

test('inventory import writes an inventory that checks', () => {
  const json = join(dir, 'farm9.json');
  writeFileSync(json, '{"node": {"initial": ["192.168.1.8"], "block1": ["192.168.1.3"], "block234": ["192.168.1.4", "192.168.1.5", "192.168.1.6"], "block5": ["192.168.1.7"], "fc1": ["192.168.1.9", "192.168.1.10"], "fc2": ["192.168.1.11"],}}');
  const out = join(dir, 'farm9.yaml');
  const r = pifarm('inventory', 'import', json, '--model', 'vgg16', '-o', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /preset vgg16-9, sender 192\.168\.1\.8, 8 node hosts/);
  const check = pifarm('inventory', 'check', '-i', out);
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /^block234 +2 +0 +block234-3 +192\.168\.1\.6:12345$/m);
  const none = pifarm('inventory', 'import', json, '--model', 'alexnet');
  assert.equal(none.code, 1);
  assert.match(none.err, /match no preset of alexnet/);
});

test('plan --preset shows plan and preset side by side; --json carries both', () => {
  const r = pifarm('plan', '--preset', 'vgg16-11', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { plan: { devices: number; evaluation: { predictedIps: number }; yaml: string }; preset: { name: string; predictedIps: number } };
  assert.equal(j.plan.devices, 11);
  assert.equal(j.preset.name, 'vgg16-11');
  assert.ok(j.plan.evaluation.predictedIps >= j.preset.predictedIps);
  assert.match(j.plan.yaml, /^stages:$/m);
  const text = pifarm('plan', '--model', 'alexnet', '--devices', '6', '--preset', 'alexnet-6');
  assert.match(text.out, /preset alexnet-6 \(6 devices\) under the same cost model/);
  assert.match(text.out, /plan vs preset: [\d.]+ vs 5\.456 IPS/);
  assert.match(text.out, /bottleneck: fc2 needs 183 ms per frame/);
  const bad = pifarm('plan', '--model', 'alexnet', '--devices', '1');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /--devices: expected an integer >= 2, got "1"/);
});

test('a planned topology runs in pifarm demo --topology and its output check passes', () => {
  const file = join(dir, 'plan.yaml');
  const p = pifarm('plan', '--model', 'alexnet', '--devices', '4', '--local', '-o', file);
  assert.equal(p.code, 0, p.err);
  assert.match(readFileSync(file, 'utf8'), /^model: alexnet$/m);
  const d = pifarm('demo', '--topology', file, '--frames', '12');
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(d.out, /plan-alexnet-4 \(alexnet\) on this machine/);
  assert.match(d.out, /output check: .*: OK/);
});

test('plan --profile HOST measures every layer on the host and plans with those times', () => {
  const inv = join(dir, 'me.yaml');
  writeFileSync(inv, ['hosts:', '  me: { local: true, slots: 3 }', 'farm: { model: alexnet }', ''].join('\n'));
  const r = pifarm('plan', '-i', inv, '--profile', 'me', '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /profiling every alexnet layer with the onnx engine on me/);
  const j = JSON.parse(r.out) as { plan: { devices: number; stageDevices: string[]; evaluation: { networkIps: number; stages: { serviceS: number }[] } } };
  assert.equal(j.plan.devices, 4, 'three slots + the sender');
  assert.deepEqual([...new Set(j.plan.stageDevices)], ['me']);
  assert.equal(j.plan.evaluation.networkIps, null, 'one machine: no network bound (Infinity in JSON is null)');
  // measured on this machine, far below the 539 ms a Pi 3 is modelled to need for the whole of AlexNet
  assert.ok(j.plan.evaluation.stages.every((s) => s.serviceS < 0.5), JSON.stringify(j.plan.evaluation.stages.map((s) => s.serviceS)));
  const missing = pifarm('plan', '-i', inv, '--profile', 'nobody');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /--profile: unknown host "nobody"; expected local or one of: me/);
});
