// The cloud-init seed run for real: on a virtual Pi (Debian with systemd and sshd, src/lab/vpi) the
// distribution's own cloud-init reads our user-data and meta-data from a NoCloud seed and runs
// its init, config and final stages. Afterwards the user exists with the image's hash and the
// farm key, the host name and time zone are set, sshd is enabled, and SSH with the key logs in.
// (Network rendering is disabled here so the virtual Pi keeps its test address; network-config
// itself is checked by netplan in prep.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import { rawFromInventory } from '../../src/image/from-inventory.js';
import { prepImages } from '../../src/image/prep.js';
import { resolveHosts } from '../../src/image/settings.js';
import type { VirtualPis } from '../../src/lab/vpi/harness.js';
import { buildImage, mread, tempDir } from './fixtures.js';
import { SECRETS, virtualPi, writeInventory } from './helpers.js';

test('cloud-init applies the seed on a virtual Pi: user with hash and key, host name, time zone, ssh', async () => {
  const dir = tempDir('vpi-ci');
  let pis: VirtualPis | undefined;
  try {
    const img = buildImage(dir, 'cloud');
    const { inventory } = writeInventory(dir);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'farm', '-f', join(dir, 'farmkey')]);
    const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi1'], { publicKeyFile: join(dir, 'farmkey.pub') }), SECRETS);
    const [r] = await prepImages({ image: img, hosts, outDir: join(dir, 'out') });
    const userData = mread(r!.output, 'user-data');
    const metaData = mread(r!.output, 'meta-data');
    const hash = parse(userData).user.passwd as string;

    pis = await virtualPi();
    const [vpi] = pis.hosts;
    const sh = async (cmd: string) => {
      const o = await pis!.exec(vpi!.name, cmd);
      assert.equal(o.code, 0, `${cmd}: ${o.stdout}\n${o.stderr}`);
      return o.stdout;
    };
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const seed = '/var/lib/cloud/seed/nocloud';
    await sh(`mkdir -p ${seed} /etc/cloud/cloud.cfg.d && echo ${b64(userData)} | base64 -d >${seed}/user-data && echo ${b64(metaData)} | base64 -d >${seed}/meta-data && ` +
      `printf 'datasource_list: [NoCloud]\\nnetwork: {config: disabled}\\n' >/etc/cloud/cloud.cfg.d/99-pifarm-test.cfg && cloud-init clean --logs`);
    await pis.exec(vpi!.name, 'cloud-init init --local && cloud-init init && cloud-init modules --mode config; cloud-init modules --mode final');
    // Every stage ran; the only modules allowed to fail are the two this container cannot serve
    // (no console-setup unit for keyboard, no generated en_US locale for the default locale
    // module); on a Pi both are there.
    const result = JSON.parse(await sh('cat /run/cloud-init/result.json')) as { v1: { datasource: string; errors: string[] } };
    assert.match(result.v1.datasource, /DataSourceNoCloud/);
    for (const e of result.v1.errors) assert.match(e, /^\('(keyboard', .*console-setup|locale', )/, `unexpected cloud-init error: ${e}`);
    assert.match(await sh('cat /etc/default/keyboard'), /XKBLAYOUT="?gb"?/, 'the keyboard module wrote its file before the console-setup restart');

    assert.equal((await sh('cat /etc/hostname')).trim(), 'pi1');
    assert.match(await sh('getent passwd farmer'), /^farmer:x:\d+:\d+:[^:]*:\/home\/farmer:\/bin\/bash$/m);
    assert.equal((await sh('getent shadow farmer | cut -d: -f2')).trim(), hash, 'the hash from the image is the password');
    assert.equal((await sh('cat /home/farmer/.ssh/authorized_keys')).trim(), readFileSync(join(dir, 'farmkey.pub'), 'utf8').trim());
    assert.match(await sh('id -nG farmer'), /\bsudo\b/);
    assert.match((await sh('readlink /etc/localtime')).trim(), /Europe\/London$/);
    assert.equal((await sh('systemctl is-enabled ssh')).trim(), 'enabled');

    const ssh = spawnSync('ssh', ['-i', join(dir, 'farmkey'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=10', `farmer@${vpi!.address}`, 'id -un; cat /etc/hostname'], { encoding: 'utf8' });
    assert.equal(ssh.status, 0, ssh.stderr);
    assert.equal(ssh.stdout, 'farmer\npi1\n');
  } finally {
    await pis?.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
