// firstrun.sh run for real: on a virtual Pi (a Debian with systemd and sshd, src/lab/vpi), through
// its fallback path (the host has no imager_custom or userconf-pi, as an image without
// raspberrypi-sys-mods would not). Afterwards the first user is renamed with the given hash, the
// host name, keys, Wi-Fi, static address and time zone are in place, the script has removed
// itself and its cmdline.txt parameters (but not the regdom), and SSH with the farm key logs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import { rawFromInventory } from '../../src/image/from-inventory.js';
import { prepImages } from '../../src/image/prep.js';
import { resolveHosts } from '../../src/image/settings.js';
import { wpaPsk } from '../../src/image/wpa-psk.js';
import type { VirtualPis } from '../../src/lab/vpi/harness.js';
import { buildImage, mread, tempDir } from './fixtures.js';
import { PASSPHRASE, SECRETS, virtualPi, writeInventory } from './helpers.js';

test('firstrun.sh on a virtual Pi: user, key, hash, host name, network files, clean-up', async () => {
  const dir = tempDir('vpi');
  let pis: VirtualPis | undefined;
  try {
    const img = buildImage(dir, 'bookworm');
    const { inventory } = writeInventory(dir);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'farm', '-f', join(dir, 'farmkey')]);
    const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi2'], { publicKeyFile: join(dir, 'farmkey.pub') }), SECRETS);
    const [r] = await prepImages({ image: img, hosts, outDir: join(dir, 'out') });
    const script = mread(r!.output, 'firstrun.sh');
    const cmdline = mread(r!.output, 'cmdline.txt');
    const hash = /^PWHASH='([^']+)'$/m.exec(script)![1]!;

    pis = await virtualPi();
    const [vpi] = pis.hosts;
    const sh = async (cmd: string) => {
      const o = await pis!.exec(vpi!.name, cmd);
      assert.equal(o.code, 0, `${cmd}: ${o.stderr}`);
      return o.stdout;
    };
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    // the boot partition as Bookworm mounts it, and the directories Raspberry Pi OS has
    await sh(`getent passwd 1000 >/dev/null || useradd -m -u 1000 -s /bin/bash pi`);
    await sh(`mkdir -p /boot/firmware /etc/wpa_supplicant /etc/NetworkManager/system-connections && ` +
      `echo ${b64(script)} | base64 -d >/boot/firmware/firstrun.sh && echo ${b64(cmdline)} | base64 -d >/boot/firmware/cmdline.txt`);
    const run = await pis.exec(vpi!.name, 'sh /boot/firmware/firstrun.sh');
    assert.equal(run.code, 0, `firstrun.sh exits 0: ${run.stderr}`);

    assert.equal((await sh('cat /etc/hostname')).trim(), 'pi2');
    assert.match(await sh('getent passwd 1000'), /^farmer:x:1000:\d+:[^:]*:\/home\/farmer:/);
    assert.equal((await sh('getent shadow farmer | cut -d: -f2')).trim(), hash, 'the hash from the image is the password');
    assert.equal((await sh('cat /home/farmer/.ssh/authorized_keys')).trim(), readFileSync(join(dir, 'farmkey.pub'), 'utf8').trim());
    assert.equal((await sh('stat -c "%U %a" /home/farmer/.ssh/authorized_keys /home/farmer/.ssh')).trim(), 'farmer 600\nfarmer 700');
    const wpa = await sh('cat /etc/wpa_supplicant/wpa_supplicant.conf; stat -c %a /etc/wpa_supplicant/wpa_supplicant.conf');
    assert.match(wpa, new RegExp(`country=GB[\\s\\S]*ssid="farm net"[\\s\\S]*psk=${wpaPsk(PASSPHRASE, 'farm net')}[\\s\\S]*\\n600\\n$`));
    assert.match(await sh('cat /etc/NetworkManager/system-connections/pifarm-eth0.nmconnection'), /address1=192\.168\.50\.12\/24,192\.168\.50\.1\ndns=192\.168\.50\.1;1\.1\.1\.1;/);
    assert.equal((await sh('cat /etc/timezone')).trim(), 'Europe/London');
    assert.match(await sh('cat /etc/default/keyboard'), /XKBLAYOUT="de"/);
    assert.equal((await sh('test -e /boot/firmware/firstrun.sh && echo present || echo gone')).trim(), 'gone', 'the script removed itself');
    const after = await sh('cat /boot/firmware/cmdline.txt');
    assert.ok(!after.includes('systemd.run'), `no systemd.run left: ${after}`);
    assert.match(after, /rootwait .*cfg80211\.ieee80211_regdom=GB\n$/, 'the regdom stays for every later boot');

    // what pifarm provision does next: log in with the farm key as the image's user
    const ssh = spawnSync('ssh', ['-i', join(dir, 'farmkey'), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=10', `farmer@${vpi!.address}`, 'id -un; cat /etc/hostname'], { encoding: 'utf8' });
    assert.equal(ssh.status, 0, ssh.stderr);
    assert.equal(ssh.stdout, 'farmer\npi2\n');
  } finally {
    await pis?.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
