// Provision steps on one virtual Pi (real sshd, systemd, dpkg, nftables): --check changes nothing,
// --offline names what is missing, the firewall opens node ports to farm hosts only and stays
// idempotent, a host without systemd is refused clearly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { gatherFacts } from '../../src/provision/facts.js';
import { provisionHost } from '../../src/provision/host.js';
import { firewallStep } from '../../src/provision/firewall.js';
import { packagesStep } from '../../src/provision/packages.js';
import { unitStep } from '../../src/provision/unit.js';
import { runStep, type StepContext } from '../../src/provision/types.js';
import type { HostSpec } from '../../src/inventory/types.js';

let pis: VirtualPis;
let t: SshTransport;

function host(vars: Record<string, unknown> = {}): HostSpec {
  return { name: 'vpi1', address: pis.hosts[0]!.address, port: 22, user: 'root', identity: pis.keyPath, agent: false, groups: [], vars };
}

async function context(o: Partial<StepContext> = {}, vars: Record<string, unknown> = {}): Promise<StepContext> {
  return {
    host: host(vars),
    t,
    facts: await gatherFacts(t),
    check: false,
    offline: true,
    log: () => {},
    plan: { nodes: [], peers: ['10.99.0.1', '10.99.0.12'], ports: [12345, 12346] },
    ...o,
  };
}

before(async () => {
  pis = await startVirtualPis(1, { netAdmin: true });
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-prov-'));
  t = new SshTransport({ name: 'vpi1', address: pis.hosts[0]!.address, port: 22, user: 'root', identity: pis.keyPath }, { knownHostsFile: join(dir, 'known_hosts') });
});
after(async () => {
  await t?.close();
  await pis?.teardown();
});

test('--check reports what would change and changes nothing', async () => {
  const results = await provisionHost(await context({ check: true }));
  const byStep = Object.fromEntries(results.map((r) => [r.step, r]));
  assert.equal(byStep['user+folders']!.status, 'changed');
  assert.match(byStep['user+folders']!.detail, /^would create user pifarm/);
  assert.equal(byStep.unit!.status, 'changed');
  assert.match(byStep.unit!.detail, /^would write \/etc\/systemd\/system\/pifarm-node@\.service/);
  const after = await t.exec('id pifarm; ls /etc/systemd/system/pifarm-node@.service; ls -d /opt/pifarm');
  assert.doesNotMatch(after.stdout, /pifarm/, 'nothing was created');
});

test('provision acts, then a second run finds nothing to do', async () => {
  const first = await provisionHost(await context());
  assert.ok(first.every((r) => r.status !== 'failed'), JSON.stringify(first));
  assert.ok(first.some((r) => r.status === 'changed'));
  const second = await provisionHost(await context());
  assert.deepEqual(second.map((r) => `${r.step}:${r.status}`), ['first boot:ok', 'packages:ok', 'runtime:ok', 'user+folders:ok', 'firewall:ok', 'unit:ok']);
  const unit = await t.exec('systemctl cat pifarm-node@x.service');
  assert.match(unit.stdout, /Restart=on-failure/);
  assert.match(unit.stdout, /MemoryMax=80%/);
  assert.match(unit.stdout, /ExecStart=\/\S+\/node \/opt\/pifarm\/current\/dist\/src\/runtime\/node-main\.js --config \/etc\/pifarm\/nodes\/%i\.json/);
});

test('--offline with a missing package fails and names it', async () => {
  const results = await provisionHost(await context({}, { packages: ['sl'] }));
  const pk = results.find((r) => r.step === 'packages')!;
  assert.equal(pk.status, 'failed');
  assert.match(pk.detail, /vpi1: missing packages sl and --offline forbids installing; install them on the host \(apt-get install sl\)/);
  assert.deepEqual(results.map((r) => r.step), ['first boot', 'packages'], 'later steps do not run after a failed one');
  // the same answer when the packages were asked about with the facts (as farm sessions do)
  const ctx = await context({}, { packages: ['sl'] });
  ctx.facts = await gatherFacts(t, { packages: ['tar', 'gzip', 'coreutils', 'sl'] });
  assert.deepEqual(ctx.facts.packages!.missing, ['sl']);
  const again = (await provisionHost(ctx)).find((r) => r.step === 'packages')!;
  assert.equal(again.status, 'failed');
  assert.match(again.detail, /missing packages sl and --offline/);
});

test('online: a missing package is installed with apt (lists refreshed when apt does not know it), then ok', async () => {
  // a one-package repository inside the virtual Pi, its only apt source: nothing leaves the host
  const pkgDir = mkdtempSync(join(tmpdir(), 'pifarm-deb-'));
  mkdirSync(join(pkgDir, 'pkg/DEBIAN'), { recursive: true });
  mkdirSync(join(pkgDir, 'pkg/usr/share/pifarm-test'), { recursive: true });
  writeFileSync(join(pkgDir, 'pkg/usr/share/pifarm-test/hello'), 'hello\n');
  writeFileSync(join(pkgDir, 'pkg/DEBIAN/control'), 'Package: pifarm-test-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: pifarm tests <tests@pifarm.invalid>\nDescription: test package\n');
  const build = spawnSync('dpkg-deb', ['--build', '--root-owner-group', join(pkgDir, 'pkg'), join(pkgDir, 'hello.deb')], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  const deb = readFileSync(join(pkgDir, 'hello.deb'));
  const index = `Package: pifarm-test-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: pifarm tests <tests@pifarm.invalid>\nFilename: ./hello.deb\nSize: ${deb.length}\nSHA256: ${createHash('sha256').update(deb).digest('hex')}\nDescription: test package\n\n`;
  await t.putContent(deb, '/srv/pifarm-repo/hello.deb');
  await t.putContent(index, '/srv/pifarm-repo/Packages');
  const src = await t.exec('rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* && echo "deb [trusted=yes] file:/srv/pifarm-repo ./" > /etc/apt/sources.list.d/pifarm-test.list');
  assert.equal(src.code, 0, src.stderr);
  const first = await runStep(packagesStep, await context({ offline: false }, { packages: ['pifarm-test-hello'] }));
  assert.equal(first.status, 'changed', first.detail);
  assert.equal(first.detail, 'installed pifarm-test-hello');
  assert.equal((await t.exec('cat /usr/share/pifarm-test/hello')).stdout, 'hello\n');
  const second = await runStep(packagesStep, await context({ offline: false }, { packages: ['pifarm-test-hello'] }));
  assert.equal(second.status, 'ok', second.detail);
});

test('with nftables active, node ports open to the farm hosts only, SSH untouched, idempotent', async () => {
  const conf = [
    'flush ruleset',
    'table inet filter {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    ct state established,related accept',
    '    iif lo accept',
    '    tcp dport 22 accept',
    '  }',
    '}',
  ].join('\n');
  const setup = await pis.exec('vpi1', `printf '%s\\n' '${conf}' > /etc/nftables.conf && systemctl enable --now nftables && systemctl is-active nftables`);
  assert.equal(setup.code, 0, setup.stderr + setup.stdout);
  const ctx = await context();
  assert.equal(ctx.facts.nftActive, true);
  const r = await runStep(firewallStep, ctx);
  assert.equal(r.status, 'changed', r.detail);
  const rules = await t.exec('nft list chain inet filter input');
  assert.match(rules.stdout, /ip saddr \{ 10\.99\.0\.1, 10\.99\.0\.12 \} tcp dport \{ 12345, 12346 \} accept comment "pifarm"/);
  assert.match(rules.stdout, /tcp dport 22 accept/);
  assert.match(rules.stdout, /policy drop/);
  const again = await runStep(firewallStep, await context());
  assert.equal(again.status, 'ok', again.detail);
  // a new SSH connection still gets in
  const fresh = new SshTransport({ name: 'vpi1', address: pis.hosts[0]!.address, port: 22, user: 'root', identity: pis.keyPath }, { knownHostsFile: join(tmpdir(), `kh-${process.pid}`) });
  assert.equal((await fresh.exec('echo in')).stdout.trim(), 'in');
  await fresh.close();
});

test('a host without systemd is refused with a clear message', async () => {
  const ctx = await context();
  ctx.facts.systemd = false; // the only part not real: every virtual Pi runs systemd
  const r = await runStep(unitStep, ctx);
  assert.equal(r.status, 'failed');
  assert.match(r.detail, /vpi1: systemd is not running on this host; pifarm runs node processes as systemd units/);
});
