// prep on three realistic images (Bookworm with firstrun.sh, Raspberry Pi OS with cloud-init,
// Ubuntu), two hosts each, checked by reading the boot partition back with mtools and handing
// the files to the real consumers' checkers: cloud-init schema, netplan, sh -n, shellcheck.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import { rawFromInventory } from '../../src/image/from-inventory.js';
import { prepImages } from '../../src/image/prep.js';
import { resolveHosts } from '../../src/image/settings.js';
import { wpaPsk } from '../../src/image/wpa-psk.js';
import { buildImage, hashRange, mexists, mread, ROOT_SIZE, ROOT_START, tempDir, type Kind } from './fixtures.js';
import { cloudInitSchema, netplanGenerate, PASSPHRASE, PASSWORD, SECRETS, writeInventory } from './helpers.js';

async function prepTwo(kind: Kind) {
  const dir = tempDir(kind);
  try {
    return await prepTwoIn(dir, kind);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function prepTwoIn(dir: string, kind: Kind) {
  const img = buildImage(dir, kind);
  const { inventory, keyLine } = writeInventory(dir);
  const rootBefore = hashRange(img, ROOT_START, ROOT_SIZE);
  const imgBefore = readFileSync(img);
  const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi1', 'pi2'], {}), SECRETS);
  const results = await prepImages({ image: img, hosts, outDir: join(dir, 'out') });
  assert.ok(readFileSync(img).equals(imgBefore), 'the input image is unchanged');
  for (const r of results) {
    assert.equal(hashRange(r.output, ROOT_START, ROOT_SIZE), rootBefore, `${r.host}: root partition bytes unchanged`);
    const bytes = readFileSync(r.output);
    assert.equal(bytes.indexOf(PASSWORD), -1, `${r.host}: the plain password is nowhere in the image`);
    assert.equal(bytes.indexOf(PASSPHRASE), -1, `${r.host}: the plain Wi-Fi passphrase is nowhere in the image`);
  }
  return { dir, img, keyLine, results, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A second and third prep of an already prepared image (in place) keep one copy of each parameter. */
async function prepAgainInPlace(t: { dir: string; results: { output: string }[] }, firstrun: boolean) {
  const again = t.results[0]!.output;
  const hosts = await resolveHosts(rawFromInventory(loadInventory(join(t.dir, 'farm.yaml')), ['pi1'], {}), SECRETS);
  const rootBefore = hashRange(again, ROOT_START, ROOT_SIZE);
  await prepImages({ image: again, hosts, inPlace: true });
  await prepImages({ image: again, hosts, inPlace: true });
  checkCmdline(mread(again, 'cmdline.txt'), firstrun);
  assert.equal(hashRange(again, ROOT_START, ROOT_SIZE), rootBefore, 'in place: root partition bytes unchanged');
}

function checkPasswordHash(hash: string) {
  const salt = /^\$6\$([^$]+)\$/.exec(hash)![1]!;
  const openssl = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: PASSWORD, encoding: 'utf8' }).trim();
  assert.equal(hash, openssl, 'the SHA-512 crypt hash matches openssl passwd -6 for the same salt');
}

function checkCmdline(text: string, expectFirstrun: boolean) {
  assert.equal(text.split('\n').filter(Boolean).length, 1, 'cmdline.txt is one line');
  assert.equal(text.match(/cfg80211\.ieee80211_regdom=GB/g)?.length, 1, 'regdom appended once');
  assert.equal(text.match(/systemd\.run=\/boot\/firstrun\.sh/g)?.length ?? 0, expectFirstrun ? 1 : 0);
  assert.ok(text.includes('rootwait'), 'the original parameters stay');
}

function checkCloudInit(dir: string, out: string, host: string, keyLine: string, os: 'raspios' | 'ubuntu') {
  const ud = mread(out, 'user-data');
  assert.ok(ud.startsWith('#cloud-config\n'));
  const [ok, msg] = cloudInitSchema(dir, ud);
  assert.ok(ok, `cloud-init schema accepts ${host}'s user-data: ${msg}`);
  const doc = parse(ud);
  assert.equal(doc.hostname, host);
  assert.equal(doc.user.name, 'farmer');
  assert.equal(doc.user.lock_passwd, false);
  checkPasswordHash(doc.user.passwd);
  assert.deepEqual(doc.user.ssh_authorized_keys, [keyLine]);
  assert.equal(doc.timezone, 'Europe/London');
  assert.equal(doc.keyboard.layout, host === 'pi2' ? 'de' : 'gb');
  assert.equal(doc.packages, undefined, 'no packages: first boot needs no network');
  assert.ok(JSON.stringify(doc.runcmd).includes('ssh'));
  assert.equal(doc.user.groups.includes('gpio'), os === 'raspios');
  const md = parse(mread(out, 'meta-data'));
  assert.match(md['instance-id'], new RegExp(`^pifarm-${host}-[0-9a-f]{8}$`));
  const nc = mread(out, 'network-config');
  const net = parse(nc).network;
  assert.equal(net.version, 2);
  assert.equal(net.wifis.wlan0['regulatory-domain'], 'GB');
  const generated = netplanGenerate(dir, nc);
  assert.ok(generated.includes(`psk=${wpaPsk(PASSPHRASE, 'farm net')}`), 'netplan turns it into wpa_supplicant with the derived PSK');
  if (host === 'pi2') {
    assert.deepEqual(net.ethernets.eth0.addresses, ['192.168.50.12/24']);
    assert.match(generated, /Address=192\.168\.50\.12\/24/);
    assert.match(generated, /DNS=192\.168\.50\.1/);
  } else {
    assert.equal(net.ethernets.eth0.dhcp4, true);
  }
}

test('Raspberry Pi OS with cloud-init: seed files for two hosts', async () => {
  const t = await prepTwo('cloud');
  try {
    const ids = new Set<string>();
    for (const r of t.results) {
      assert.equal(r.format, 'cloud-init');
      checkCloudInit(t.dir, r.output, r.host, t.keyLine, 'raspios');
      ids.add(parse(mread(r.output, 'meta-data'))['instance-id']);
      checkCmdline(mread(r.output, 'cmdline.txt'), false);
      assert.ok(!mexists(r.output, 'firstrun.sh'));
    }
    assert.equal(ids.size, 2, 'instance-id unique per host');
    await prepAgainInPlace(t, false);
  } finally {
    t.done();
  }
});

test('Ubuntu Server (label system-boot): cloud-init with Ubuntu groups', async () => {
  const t = await prepTwo('ubuntu');
  try {
    for (const r of t.results) {
      assert.equal(r.format, 'cloud-init');
      assert.match(r.reason, /Ubuntu/);
      checkCloudInit(t.dir, r.output, r.host, t.keyLine, 'ubuntu');
      checkCmdline(mread(r.output, 'cmdline.txt'), false);
    }
    await prepAgainInPlace(t, false);
  } finally {
    t.done();
  }
});

test('Bookworm (pi-gen issue.txt): firstrun.sh and cmdline.txt, idempotent', async () => {
  const t = await prepTwo('bookworm');
  try {
    for (const r of t.results) {
      assert.equal(r.format, 'firstrun');
      const fr = mread(r.output, 'firstrun.sh');
      const f = join(t.dir, `firstrun-${r.host}.sh`);
      writeFileSync(f, fr);
      const sh = spawnSync('sh', ['-n', f], { encoding: 'utf8' });
      assert.equal(sh.status, 0, `sh -n: ${sh.stderr}`);
      const sc = spawnSync('shellcheck', ['-s', 'sh', f], { encoding: 'utf8' });
      assert.equal(sc.status, 0, `shellcheck: ${sc.stdout}`);
      assert.ok(fr.includes(`imager_custom set_hostname '${r.host}'`));
      assert.ok(fr.includes(`enable_ssh -k '${t.keyLine}'`));
      assert.ok(fr.includes(`imager_custom set_wlan 'farm net' '${wpaPsk(PASSPHRASE, 'farm net')}' 'GB'`));
      assert.ok(fr.includes(`userconf 'farmer' "$PWHASH"`));
      checkPasswordHash(/^PWHASH='(\$6\$[^']+)'$/m.exec(fr)![1]!);
      assert.equal(fr.includes('pifarm-eth0.nmconnection'), r.host === 'pi2', 'static address only for pi2');
      checkCmdline(mread(r.output, 'cmdline.txt'), true);
      assert.ok(!mexists(r.output, 'user-data'));
    }
    await prepAgainInPlace(t, true);
  } finally {
    t.done();
  }
});
