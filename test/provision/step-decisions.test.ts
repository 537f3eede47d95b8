// Each provision step's decisions as data: facts in, outcome and commands out, on a scripted
// transport (no host, no root, milliseconds). What the commands do on a real host is the
// virtual-Pi tests' job (steps.test.ts, up.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstBootStep } from '../../src/provision/first-boot.js';
import { packagesStep } from '../../src/provision/packages.js';
import { runtimeStep } from '../../src/provision/runtime.js';
import { userStep } from '../../src/provision/user.js';
import { firewallStep } from '../../src/provision/firewall.js';
import { unitStep } from '../../src/provision/unit.js';
import { modelFilesStep } from '../../src/provision/model-files.js';
import { deployHost, provisionHost } from '../../src/provision/host.js';
import { runStep } from '../../src/provision/types.js';
import { BASE_DIR, CONFIG_DIR, RELEASES_DIR } from '../../src/provision/layout.js';
import { piFacts, piHost, scriptedContext, ScriptedTransport } from './scripted-transport.js';

const ALL_DIRS = [BASE_DIR, RELEASES_DIR, CONFIG_DIR];

test('first boot: nothing running is ok without a command; a running cloud-init is waited for, its failure named', async () => {
  let t = new ScriptedTransport('pi1');
  let r = await runStep(firstBootStep, scriptedContext(t, piFacts()));
  assert.deepEqual([r.status, t.sent.length], ['ok', 0]);

  t = new ScriptedTransport('pi1');
  r = await runStep(firstBootStep, scriptedContext(t, piFacts({ cloudInit: 'running' }), { check: true }));
  assert.equal(r.status, 'ok');
  assert.match(r.detail, /would wait/);
  assert.equal(t.sent.length, 0, '--check waits for nothing');

  t = new ScriptedTransport('pi1', [[/^cloud-init status --wait$/, { code: 2, stdout: 'status: done\n' }]]);
  const ctx = scriptedContext(t, piFacts({ cloudInit: 'running' }));
  r = await runStep(firstBootStep, ctx);
  assert.equal(r.status, 'ok', 'exit 2 is done with recoverable errors');
  assert.deepEqual(t.sent, [{ command: 'cloud-init status --wait', sudo: true }]);
  assert.equal(ctx.facts.cloudInit, 'done');

  t = new ScriptedTransport('pi1', [[/^cloud-init status --wait$/, { code: 1, stdout: 'status: error\n' }]]);
  r = await runStep(firstBootStep, scriptedContext(t, piFacts({ cloudInit: 'running' })));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /^pi1: cloud-init's first boot ended error: .*\/var\/log\/cloud-init\.log/);
});

test('packages: present is ok; missing under --check or --offline says what and how; no dpkg is refused', async () => {
  const known = (missing: string[]) => piFacts({ packages: { checked: ['tar', 'gzip', 'coreutils', 'zstd'], missing } });
  const wantsZstd = { host: piHost({ packages: ['zstd'] }) };
  let t = new ScriptedTransport('pi1');
  let r = await runStep(packagesStep, scriptedContext(t, known([]), wantsZstd));
  assert.equal(r.status, 'ok');
  assert.equal(t.sent.length, 0, 'the facts already said: no round trip');

  r = await runStep(packagesStep, scriptedContext(t, known(['zstd']), { ...wantsZstd, check: true }));
  assert.deepEqual([r.status, r.detail], ['changed', 'would install zstd']);
  r = await runStep(packagesStep, scriptedContext(t, known(['zstd']), { ...wantsZstd, offline: true }));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /missing packages zstd and --offline forbids installing; install them on the host \(apt-get install zstd\)/);
  assert.equal(t.sent.length, 0);

  t = new ScriptedTransport('pi1', [[/apt-get .* install .*'zstd'/, { code: 0 }]]);
  const ctx = scriptedContext(t, known(['zstd']), wantsZstd);
  r = await runStep(packagesStep, ctx);
  assert.deepEqual([r.status, r.detail], ['changed', 'installed zstd']);
  assert.equal(t.sent.length, 1);
  assert.ok(t.sent[0]!.sudo && /DPkg::Lock::Timeout=600/.test(t.sent[0]!.command), 'apt waits for the dpkg lock, as root');
  assert.deepEqual(ctx.facts.packages?.missing, []);

  r = await runStep(packagesStep, scriptedContext(new ScriptedTransport('pi1'), piFacts({ dpkg: false, osId: 'alpine' })));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /no dpkg on this host \(alpine\)/);
});

test('packages: an apt failure on a host with an unsynchronised clock says so', async () => {
  const t = new ScriptedTransport('pi1', [
    [/apt-get .* install/, { code: 100, stderr: 'E: Release file is not valid yet (invalid for another 2d)' }],
    [/^date -u$/, { stdout: 'Thu Jan  1 00:02:00 UTC 1970\n' }],
  ]);
  const r = await runStep(packagesStep, scriptedContext(t, piFacts({ clockSynced: false, packages: { checked: ['tar', 'gzip', 'coreutils', 'zstd'], missing: ['zstd'] } }), { host: piHost({ packages: ['zstd'] }) }));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /not valid yet.*the host's clock is not synchronised \(it says Thu Jan {2}1 00:02:00 UTC 1970\)/);
});

test('runtime: node 18 is ok; an old node under --offline is refused; none under --check would install', async () => {
  const t = new ScriptedTransport('pi1');
  let r = await runStep(runtimeStep, scriptedContext(t, piFacts()));
  assert.deepEqual([r.status, r.detail], ['ok', 'node v18.20.4 at /usr/bin/node']);
  r = await runStep(runtimeStep, scriptedContext(t, piFacts({ nodeMajor: 12, nodeVersion: 'v12.22.12' }), { offline: true }));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /^pi1: node v12\.22\.12 at \/usr\/bin\/node is too old \(need >= 18\) and --offline forbids installing/);
  r = await runStep(runtimeStep, scriptedContext(t, piFacts({ nodePath: undefined, nodeMajor: undefined, nodeVersion: undefined }), { check: true }));
  assert.deepEqual([r.status, r.detail], ['changed', 'no node; would install nodejs from the distribution']);
  assert.equal(t.sent.length, 0);
});

test('user+folders: present is ok; missing ones are created in one command as root; a failure names them', async () => {
  let t = new ScriptedTransport('pi1');
  let r = await runStep(userStep, scriptedContext(t, piFacts({}, { user: true, dirs: ALL_DIRS })));
  assert.equal(r.status, 'ok');
  assert.equal(t.sent.length, 0);

  t = new ScriptedTransport('pi1', [[/useradd --system/, { code: 0 }]]);
  r = await runStep(userStep, scriptedContext(t, piFacts({}, { user: false, dirs: [BASE_DIR] })));
  assert.deepEqual([r.status, r.detail], ['changed', `created user pifarm, ${RELEASES_DIR}, ${CONFIG_DIR}`]);
  assert.equal(t.sent.length, 1);
  assert.ok(t.sent[0]!.sudo);
  assert.match(t.sent[0]!.command, /chown root:pifarm \/etc\/pifarm\/nodes && chmod 750 \/etc\/pifarm\/nodes/);

  t = new ScriptedTransport('pi1', [[/useradd/, { code: 1, stderr: 'useradd: cannot lock /etc/passwd' }]]);
  r = await runStep(userStep, scriptedContext(t, piFacts()));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /^pi1: cannot create user pifarm, .*: useradd: cannot lock \/etc\/passwd$/);
});

test('firewall: no active firewall, or no node ports, means no command', async () => {
  const t = new ScriptedTransport('pi1');
  let r = await runStep(firewallStep, scriptedContext(t, piFacts()));
  assert.deepEqual([r.status, r.detail], ['ok', 'no active firewall']);
  r = await runStep(firewallStep, scriptedContext(t, piFacts({ nftActive: true }), { plan: { nodes: [], peers: [], ports: [] } }));
  assert.deepEqual([r.status, r.detail], ['ok', 'no node ports on this host']);
  assert.equal(t.sent.length, 0);
});

test('firewall: provision without a farm that resolves leaves the node ports to deploy, and says why', async () => {
  const t = new ScriptedTransport('pi1');
  const r = await runStep(firewallStep, scriptedContext(t, piFacts({ ufwActive: true }), { plan: { nodes: [], peers: [], ports: [], farmProblem: 'farm: expected a mapping' } }));
  assert.deepEqual([r.status, r.detail], ['skipped', 'no farm to open node ports for (farm: expected a mapping); deploy opens them']);
  assert.equal(t.sent.length, 0);
});

test('deploy checks the firewall first where one is active, and not where none is', async () => {
  // the code step asks for the bundle: a plan without one fails there, after the firewall
  const plan = { nodes: [], peers: ['192.0.2.1'], ports: [12345] };
  let t = new ScriptedTransport('pi1', [[/^ufw status/, { stdout: 'Status: active\n\n12345/tcp ALLOW 192.0.2.1\n' }]]);
  let results = await deployHost(scriptedContext(t, piFacts({ ufwActive: true }), { plan }));
  assert.equal(results[0]!.step, 'firewall');
  t = new ScriptedTransport('pi1');
  results = await deployHost(scriptedContext(t, piFacts(), { plan }));
  assert.equal(results[0]!.step, 'code');
});

test('model: an imported model on an armhf host is refused before anything is sent; present graphs are not sent again', async () => {
  const graphs = [{ path: '/opt/pifarm/models/0123456789abcdef.onnx', sha256: '0123456789abcdef'.padEnd(64, '0'), bytes: new Uint8Array(10) }];
  const armhf = piFacts({ arch: 'armhf', machine: 'armv7l', cpu: { arch: 'armhf', model: 'Cortex-A7', features: ['half', 'thumb', 'fastmult', 'vfp', 'edsp', 'neon', 'vfpv3', 'tls', 'vfpv4', 'idiva', 'idivt'] } });
  let t = new ScriptedTransport('pi1');
  let r = await runStep(modelFilesStep, scriptedContext(t, armhf, { plan: { nodes: [], peers: [], ports: [], graphs } }));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /^pi1: an imported model runs on onnxruntime only, and this host's CPU .* gets tfjs/);
  assert.equal(t.sent.length, 0);
  t = new ScriptedTransport('pi1');
  r = await runStep(modelFilesStep, scriptedContext(t, piFacts({}, { models: ['0123456789abcdef.onnx'] }), { plan: { nodes: [], peers: [], ports: [], graphs } }));
  assert.deepEqual([r.status, r.detail, t.sent.length], ['ok', '1 stage graph(s) present', 0]);
});

test('unit: no systemd is refused; a first install writes the file without daemon-reload, a changed one reloads', async () => {
  let r = await runStep(unitStep, scriptedContext(new ScriptedTransport('pi1'), piFacts({ systemd: false })));
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /^pi1: systemd is not running on this host/);

  let t = new ScriptedTransport('pi1', [[/pifarm-node@\.service/, { code: 0 }]]);
  r = await runStep(unitStep, scriptedContext(t, piFacts()));
  assert.equal(r.status, 'changed');
  assert.doesNotMatch(t.sent[0]!.command, /daemon-reload/);
  assert.match(t.sent[0]!.stdin ?? '', /ExecStart=\/usr\/bin\/node /);

  t = new ScriptedTransport('pi1', [[/pifarm-node@\.service/, { code: 0 }]]);
  r = await runStep(unitStep, scriptedContext(t, piFacts({}, { unitSha: 'an older unit' })));
  assert.equal(r.status, 'changed');
  assert.match(t.sent[0]!.command, /&& systemctl daemon-reload$/);
});

test('provision stops at the first failed step and runs nothing after it', async () => {
  const t = new ScriptedTransport('pi1');
  const results = await provisionHost(scriptedContext(t, piFacts({ dpkg: false }), { host: piHost() }));
  assert.deepEqual(results.map((r) => [r.step, r.status]), [['first boot', 'ok'], ['packages', 'failed']]);
  assert.equal(t.sent.length, 0);
});
