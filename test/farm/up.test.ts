// The farm on 4 virtual Pis (real sshd, real systemd), AlexNet alexnet-5 with the sender on this
// machine, and a 5th virtual Pi for the sender on a Pi. One set of virtual Pis for the whole file;
// the tests build on each other in order: a host lost mid-provisioning, --retry-failed, a full
// `up`, a no-change deploy, a node killed with SIGKILL, the sender on a Pi, `down`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { downCommand, simpleCommand, statusCommand, upCommand } from '../../src/farm/commands.js';
import { projectRoot, type FarmOptions } from '../../src/farm/options.js';
import { buildBundle } from '../../src/provision/bundle.js';
import { pifarm } from './helpers.js';
import { waitFor } from '../wait.js';
import { writeInventory } from '../../src/lab/vpi/inventory.js';

let pis: VirtualPis;
let dir: string;
let inventory: string;
let opts: FarmOptions;
const env = () => ({ PIFARM_STATE_DIR: join(dir, 'state') });
const sender = { frames: 50, warmup: 5, log: () => {} };

before(async () => {
  pis = await startVirtualPis(5);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-farm-'));
  inventory = writeInventory(dir, pis, 'alexnet-5', { hosts: 4 });
  // one bundle for the API runs: the tree may be rebuilt while the tests run (a shared machine)
  const bundle = await buildBundle(projectRoot(), 'x64', join(dir, 'state', 'bundles'), 'onnx');
  opts = { inventoryFile: inventory, stateDir: join(dir, 'state'), logsDir: join(dir, 'logs'), offline: true, json: true, bundles: { x64: bundle } };
});
after(async () => {
  await pis?.teardown();
});

test('a host lost in the middle of provisioning fails alone; --retry-failed completes it', async () => {
  // vpi3 is a slow Pi: its unpacking takes 60 s more, so the plug is surely pulled mid-way
  // (the decompressor of the release: zstd when installed, else gzip under tar -z)
  const slow = await pis.exec('vpi3', `T=$(command -v zstd || command -v gzip) && mv $T $T.real && printf '#!/bin/sh\\nsleep 60\\nexec %s.real "$@"\\n' $T > $T && chmod 755 $T && echo $T`);
  assert.equal(slow.code, 0, slow.stderr);
  const tool = slow.stdout.trim();
  const run = pifarm(['up', '-i', inventory, '--offline', '--frames', '20'], dir, env());
  await waitFor('vpi3 to unpack a release', async () => (await pis.exec('vpi3', 'ls -d /opt/pifarm/releases/*.tmp 2>/dev/null')).stdout.trim() !== '', 120_000, 100);
  await pis.stop('vpi3');
  const r = await run;
  assert.notEqual(r.code, 0, 'a failed host makes the exit code non-zero');
  assert.match(r.stdout, /1 of 4 host\(s\) FAILED:\n {2}vpi3: /);
  for (const h of ['vpi1', 'vpi2', 'vpi4']) assert.match(r.stdout, new RegExp(`^${h} +start +changed`, 'm'), `${h} finished: ${r.stdout}`);
  assert.match(r.stdout, /run: not run: node host\(s\) vpi3 failed/);

  await pis.start('vpi3');
  assert.equal((await pis.exec('vpi3', `mv -f ${tool}.real ${tool}`)).code, 0);
  const again = await pifarm(['up', '-i', inventory, '--offline', '--retry-failed', '--frames', '20'], dir, env());
  assert.equal(again.code, 0, again.stdout + again.stderr);
  // only the failed host was worked on
  assert.match(again.stdout, /^vpi3 +start +changed/m);
  assert.doesNotMatch(again.stdout, /^vpi1 +/m);
  assert.match(again.stdout, /completed 20, dropped 0/);
  assert.match(again.stdout, /output check: .*: OK/);
});

test('pifarm up: provisioned offline, deployed, started under systemd, 50 frames, output check, logs from every host', async () => {
  const r = await upCommand(opts, sender);
  assert.deepEqual(r.failed, [], JSON.stringify(r.runs, null, 1));
  assert.equal(r.runError, undefined, r.runError);
  assert.equal(r.report!.completed, 50, JSON.stringify(r.report?.sender));
  assert.equal(r.report!.check.ok, true);
  assert.equal(r.report!.check.compared > 0, true);
  assert.deepEqual(r.logs!.map((l) => l.host).sort(), ['vpi1', 'vpi2', 'vpi3', 'vpi4']);
  for (const l of r.logs!) {
    assert.ok(l.lines > 0, `${l.host}: no log lines`);
    assert.match(readFileSync(l.file, 'utf8'), /pifarm-node-/);
  }
  // every node proves the farm secret: a file only the node user can read, named in its config
  const sec = await pis.exec('vpi2', 'stat -c "%a %U" /etc/pifarm/secret; grep -c secretFile /etc/pifarm/nodes/fc1-0-0.json');
  assert.equal(sec.stdout, '600 pifarm\n1\n');
  const st = await statusCommand(opts);
  assert.deepEqual(st.failed, []);
  const nodes = st.status!.flatMap((h) => h.nodes.map((n) => ({ host: h.host, ...n })));
  assert.deepEqual(nodes.map((n) => `${n.host}:${n.instance}`), ['vpi1:block1-0-0', 'vpi2:fc1-0-0', 'vpi3:fc1-0-1', 'vpi4:fc2-0-0']);
  for (const n of nodes) assert.ok(n.active === 'active' && n.answers, JSON.stringify(n));
});

test('a second deploy with nothing changed sends no release and restarts nothing', async () => {
  const pids = async () => (await statusCommand(opts)).status!.flatMap((h) => h.nodes.map((n) => n.mainPid));
  const before = await pids();
  const r = await simpleCommand('deploy', opts);
  assert.deepEqual(r.failed, []);
  for (const h of r.runs) {
    const code = h.results.find((s) => s.step === 'code')!;
    assert.equal(code.status, 'ok', code.detail);
    assert.equal(code.bytesSent, 0);
    assert.equal(h.results.find((s) => s.step === 'config')!.status, 'ok');
    assert.equal(h.results.find((s) => s.step === 'restart')!.status, 'ok');
  }
  assert.deepEqual(await pids(), before, 'no node process was restarted');
});

test('a node killed with SIGKILL is restarted by systemd, and status shows it', async () => {
  const fc2 = async () => (await statusCommand(opts)).status!.find((h) => h.host === 'vpi4')!.nodes[0]!;
  const was = await fc2();
  assert.equal(was.restarts, 0);
  const k = await pis.exec('vpi4', `kill -9 ${was.mainPid}`);
  assert.equal(k.code, 0, k.stderr);
  await waitFor('systemd to restart fc2', async () => {
    const n = await fc2();
    return n.restarts >= 1 && n.active === 'active' && n.answers && n.mainPid !== was.mainPid;
  }, 30_000, 500);
});

test('the sender on a Pi: deploy rewires the nodes to it, run streams from it, output check passes', async () => {
  const inv5 = writeInventory(dir, pis, 'alexnet-5', { sender: 'vpi5', file: 'farm-pi-sender.yaml' });
  const o5: FarmOptions = { ...opts, inventoryFile: inv5 };
  const up = await upCommand(o5, { frames: 20, warmup: 2, log: () => {} });
  assert.deepEqual(up.failed, [], JSON.stringify(up.runs, null, 1));
  assert.equal(up.runError, undefined, up.runError);
  assert.equal(up.report!.completed, 20);
  assert.equal(up.report!.check.ok, true);
  // every node config names the sender: each node was restarted with its new config
  const restarts = up.runs.flatMap((h) => h.results.filter((s) => s.step === 'restart' && s.status === 'changed').map(() => h.host));
  assert.deepEqual(restarts, ['vpi1', 'vpi2', 'vpi3', 'vpi4']);
  const cfg = await pis.exec('vpi4', 'cat /etc/pifarm/nodes/fc2-0-0.json');
  assert.match(cfg.stdout, /"sender": \{\s*"host": "10\.99\.0\.15"/);
});

test('rollback: after a release whose nodes fail, the previous release runs again', async () => {
  const o5: FarmOptions = { ...opts, inventoryFile: join(dir, 'farm-pi-sender.yaml') };
  const good = opts.bundles!.x64!;
  // a real, different release that cannot run this farm: the tfjs-only bundle of an onnx farm
  const bad = await buildBundle(projectRoot(), 'x64', join(dir, 'state', 'bundles'), 'tfjs');
  assert.notEqual(bad.hash, good.hash);
  // the restart step waits for the nodes: each host's deploy fails, saying its node cannot load
  const d = await simpleCommand('deploy', { ...o5, bundles: { x64: bad } });
  assert.deepEqual(d.failed, ['vpi1', 'vpi2', 'vpi3', 'vpi4'], JSON.stringify(d.runs));
  for (const run of d.runs.filter((r) => r.failed)) {
    const failed = run.results.find((s) => s.status === 'failed')!;
    assert.equal(failed.step, 'restart');
    assert.match(failed.detail, new RegExp(`^${run.host} \\(.*\\): node \\S+ exited \\(failed \\(exit-code 4\\)\\); .*cannot load`));
  }
  const nodes = async () => (await statusCommand(o5)).status!.flatMap((h) => h.nodes.map((n) => ({ host: h.host, release: h.release, ...n })));
  await waitFor('the nodes of the bad release to fail', async () => (await nodes()).some((n) => n.active === 'failed'), 60_000, 500);
  const rb = await simpleCommand('rollback', o5);
  assert.deepEqual(rb.failed, [], JSON.stringify(rb.runs));
  await waitFor('every node to run the previous release', async () => (await nodes()).every((n) => n.active === 'active' && n.answers && n.release === good.hash), 60_000, 500);
});

/** One SSH login to a virtual Pi of this test (OpenSSH's client, the harness's key): true when it ran. */
function loginAs(user: string, address: string): Promise<boolean> {
  const args = ['-i', pis.keyPath, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=30', `${user}@${address}`, 'true'];
  return new Promise((resolve) => execFile('ssh', args, { timeout: 60_000 }, (err) => resolve(!err)));
}

test('a login user other than root (the Pi default): every change goes through sudo', async () => {
  for (const h of pis.hosts.slice(0, 4)) {
    const r = await pis.exec(h.name, [
      'id pi >/dev/null 2>&1 || useradd -m -s /bin/bash pi',
      'mkdir -p ~pi/.ssh && cp /root/.ssh/authorized_keys ~pi/.ssh/ && chown -R pi:pi ~pi/.ssh && chmod 700 ~pi/.ssh',
      "echo 'pi ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/pi && chmod 440 /etc/sudoers.d/pi",
      // a new user's first login starts its systemd user manager, and sshd waits for pam_systemd
      // meanwhile (up to 25 s in a container): start it now, as a Pi's long-standing user has it
      'timeout 60 systemctl start user@$(id -u pi).service',
    ].join(' && '));
    assert.equal(r.code, 0, r.stderr);
  }
  // the new user's first login can still wait on logind under load (its connect failed after 23 s
  // in one CI run): log in once with OpenSSH's client, as a Pi's long-standing user has
  for (const h of pis.hosts.slice(0, 4)) await waitFor(`a first login as pi on ${h.name}`, () => loginAs('pi', h.address), 120_000, 1000);
  // back to the local sender: every node config changes, written and restarted through sudo
  const inv = writeInventory(dir, pis, 'alexnet-5', { hosts: 4, user: 'pi', file: 'farm-pi-user.yaml' });
  const o: FarmOptions = { ...opts, inventoryFile: inv };
  const up = await upCommand(o, { frames: 20, warmup: 2, log: () => {} });
  assert.deepEqual(up.failed, [], JSON.stringify(up.runs, null, 1));
  assert.equal(up.report?.completed, 20, up.runError);
  assert.equal(up.report!.check.ok, true);
  const configs = up.runs.map((h) => h.results.find((s) => s.step === 'config')!.status);
  assert.deepEqual(configs, ['changed', 'changed', 'changed', 'changed']);
  // and pi reads pifarm's state on the host through sudo too: a second deploy finds nothing to do
  const again = await simpleCommand('deploy', o);
  assert.deepEqual(again.runs.flatMap((h) => h.results.map((s) => s.status)), Array(12).fill('ok'));
  const who = await pis.exec('vpi1', 'systemctl show -p User --value pifarm-node@block1-0-0; ls -l /etc/pifarm/nodes/block1-0-0.json');
  assert.match(who.stdout, /^pifarm\n-rw-r----- 1 root pifarm /);
});

test('pifarm down stops every node unit', async () => {
  const r = await downCommand(opts);
  assert.deepEqual(r.failed, []);
  const st = await statusCommand(opts);
  for (const h of st.status!) for (const n of h.nodes) assert.ok(n.active !== 'active' && !n.answers, `${h.host} ${JSON.stringify(n)}`);
  for (const h of pis.hosts) {
    const units = await pis.exec(h.name, "systemctl list-units 'pifarm-node@*' --state=active --no-legend --plain");
    assert.equal(units.stdout.trim(), '', `${h.name} still runs ${units.stdout}`);
  }
});
