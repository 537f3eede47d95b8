// Where images come from and how they are read: .img.xz through the cache (once), sparse per-host
// copies, GPT partition tables, the legacy format, --format, the CLI without an inventory, and
// `image inspect` on a prepared image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import { rawFromInventory } from '../../src/image/from-inventory.js';
import { prepImages } from '../../src/image/prep.js';
import { resolveHosts } from '../../src/image/settings.js';
import { findBootPartition, readPartitionTable } from '../../src/image/partitions.js';
import { wpaPsk } from '../../src/image/wpa-psk.js';
import { buildImage, hashRange, mexists, mread, tempDir } from './fixtures.js';
import { inspectImage } from '../../src/image/inspect.js';
import { PASSPHRASE, SECRETS, writeInventory } from './helpers.js';

const ENV = { ...process.env, PIFARM_TEST_PW: 'Corr3ct-Horse-pw', PIFARM_TEST_WIFI: PASSPHRASE };
function cli(args: string[]) {
  return spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
}

test('.img.xz is decompressed into the cache once; per-host images are sparse', async () => {
  const dir = tempDir('xz');
  try {
    const img = buildImage(dir, 'cloud');
    execFileSync('xz', ['-T1', '-0', img]);
    const { inventory } = writeInventory(dir);
    const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi1', 'pi2'], {}), SECRETS);
    const cache = join(dir, 'cache');
    const logs: string[] = [];
    await prepImages({ image: `${img}.xz`, hosts, outDir: join(dir, 'a'), cacheDir: cache, log: (m) => logs.push(m) });
    const cached = readdirSync(cache);
    assert.equal(cached.length, 1);
    const ino = statSync(join(cache, cached[0]!)).ino;
    await prepImages({ image: `${img}.xz`, hosts, outDir: join(dir, 'b'), cacheDir: cache, log: (m) => logs.push(m) });
    assert.equal(logs.filter((l) => l.startsWith('decompressing')).length, 1, 'decompressed once');
    assert.equal(statSync(join(cache, cached[0]!)).ino, ino, 'the cache file was reused');
    for (const h of ['pi1', 'pi2']) {
      const out = join(dir, 'b', `${h}.img`);
      assert.match(mread(out, 'user-data'), new RegExp(`hostname: ${h}`));
      const st = statSync(out);
      assert.ok(st.blocks * 512 < st.size / 2, `${h}.img is sparse: ${st.blocks * 512} bytes allocated of ${st.size}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GPT image: the FAT partition is found; the legacy format writes ssh, userconf.txt, wpa_supplicant.conf', async () => {
  const dir = tempDir('gpt');
  try {
    const img = buildImage(dir, 'plain', { gpt: true });
    const table = readPartitionTable(img);
    assert.equal(table.scheme, 'gpt');
    assert.deepEqual(table.partitions.map((p) => [p.index, p.start, p.name]), [[1, 1 << 20, 'boot'], [2, 9 << 20, 'root']]);
    assert.equal(findBootPartition(img, table).fat.label, 'bootfs');
    const { inventory } = writeInventory(dir);
    const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi1'], {}), SECRETS);
    const [r] = await prepImages({ image: img, hosts, outDir: join(dir, 'out') });
    assert.equal(r!.format, 'legacy');
    assert.match(r!.warnings.join('\n'), /legacy format cannot set: hostname, authorized key, timezone, keymap/);
    assert.equal(mread(r!.output, 'ssh'), '');
    assert.match(mread(r!.output, 'userconf.txt'), /^farmer:\$6\$[^:\n]+\n$/);
    assert.match(mread(r!.output, 'wpa_supplicant.conf'), new RegExp(`country=GB[\\s\\S]*ssid="farm net"[\\s\\S]*psk=${wpaPsk(PASSPHRASE, 'farm net')}`));
    // a locked password with the legacy format would lock the user out: refused
    const locked = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi1'], { lockPassword: true }), SECRETS);
    await assert.rejects(prepImages({ image: img, hosts: locked, outDir: join(dir, 'out2') }), /cannot install an SSH key, so a locked password would lock you out/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI without an inventory, --format override, and inspect of the result', () => {
  const dir = tempDir('cli');
  try {
    const img = buildImage(dir, 'bookworm');
    writeInventory(dir);
    const out = join(dir, 'out');
    let r = cli(['image', 'prep', '--image', img, '--host', 'node7', '--public-key', join(dir, 'id_ed25519.pub'), '--format', 'cloud-init',
      '--static-address', '10.1.2.7/24', '--gateway', '10.1.2.1', '--dns', '10.1.2.1', '--wifi-ssid', 'lab', '--wifi-country', 'FR',
      '--wifi-passphrase-env', 'PIFARM_TEST_WIFI', '--timezone', 'Europe/Paris', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /node7 .* cloud-init .* user-data meta-data network-config cmdline\.txt/);
    assert.ok(mexists(join(out, 'node7.img'), 'user-data') && !mexists(join(out, 'node7.img'), 'firstrun.sh'));
    assert.ok(!r.stdout.includes(PASSPHRASE) && !r.stderr.includes(PASSPHRASE));

    r = cli(['image', 'inspect', join(out, 'node7.img')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /MBR, 18874368 bytes/);
    assert.match(r.stdout, /1 +1048576 +8388608 +0c +boot: FAT\d+ "bootfs"/);
    assert.match(r.stdout, /issue\.txt/);
    assert.match(r.stdout, /flavour: cloud-init - Raspberry Pi OS with cloud-init \(seed user-data, meta-data, network-config on bootfs\)/);
    assert.match(r.stdout, /os: Debian GNU\/Linux 12 \(bookworm\) \(partition 2\)/);
    assert.match(r.stdout, /user-data \(pifarm\): hostname node7, user pi, timezone Europe\/Paris/);
    assert.match(r.stdout, /network-config \(pifarm\): static eth0, wlan0 "lab"/);
    assert.match(r.stdout, /cmdline\.txt: cfg80211\.ieee80211_regdom=FR$/m);
    const json = JSON.parse(cli(['image', 'inspect', '--json', join(out, 'node7.img')]).stdout);
    assert.equal(json.boot.fat.label, 'bootfs');
    assert.equal(json.flavour.format, 'cloud-init');
    assert.ok(json.files.some((f: { name: string }) => f.name === 'network-config'));

    r = cli(['image', 'prep', '--image', img, '--host', 'node7', '--out', out]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /host node7: no public key to authorise/);
    assert.ok(readFileSync(img).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the example inventories: --all prepares every Pi of farm-5; a local-only farm has none', () => {
  const dir = tempDir('examples');
  try {
    const img = buildImage(dir, 'cloud');
    writeInventory(dir);
    const key = join(dir, 'id_ed25519.pub');
    let r = cli(['image', 'prep', '--image', img, '-i', 'inventory/farm-5.yaml', '--all', '--public-key', key, '--out', join(dir, 'out')]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['pi-block1.img', 'pi-fc1a.img', 'pi-fc1b.img', 'pi-fc2.img', 'sender.img']);
    assert.match(mread(join(dir, 'out', 'pi-fc1b.img'), 'user-data'), /hostname: pi-fc1b\n/);
    r = cli(['image', 'prep', '--image', img, '-i', 'inventory/local.yaml', '--all', '--public-key', key, '--out', join(dir, 'out2')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /local\.yaml: no hosts to make images for \(every host is local\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a FAT32 boot partition, as on real images: prep and inspect', async () => {
  const dir = tempDir('fat32');
  try {
    const img = buildImage(dir, 'bookworm', { fat32: true });
    const table = readPartitionTable(img);
    const boot = findBootPartition(img, table);
    assert.deepEqual([boot.fat.fatType, boot.fat.label, boot.fat.clusterBytes], ['FAT32', 'bootfs', 512]);
    const root = table.partitions[1]!;
    const rootBefore = hashRange(img, root.start, root.size);
    const { inventory } = writeInventory(dir);
    const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi2'], {}), SECRETS);
    const [r] = await prepImages({ image: img, hosts, outDir: join(dir, 'out') });
    assert.equal(r!.format, 'firstrun');
    assert.match(mread(r!.output, 'firstrun.sh'), /set_hostname 'pi2'/);
    assert.equal(hashRange(r!.output, root.start, root.size), rootBefore);
    const rep = await inspectImage(r!.output);
    assert.ok(rep.files.some((f) => f.dir && f.name === 'overlays'), 'directories are listed');
    assert.match(rep.customisation.join('\n'), /firstrun\.sh \(pifarm\): hostname pi2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prep needs no root: it runs as nobody', () => {
  const dir = tempDir('nobody');
  try {
    const img = buildImage(dir, 'cloud');
    const { inventory } = writeInventory(dir);
    const out = join(dir, 'out');
    execFileSync('mkdir', ['-m', '777', out]);
    execFileSync('chmod', ['755', dir]);
    execFileSync('chmod', ['644', img, inventory, join(dir, 'id_ed25519.pub')]);
    const r = spawnSync('runuser', ['-u', 'nobody', '--', 'env', `HOME=${out}`, 'PIFARM_TEST_PW=Corr3ct-Horse-pw', `PIFARM_TEST_WIFI=${PASSPHRASE}`,
      process.execPath, 'dist/src/cli/main.js', 'image', 'prep', '--image', img, '-i', inventory, '--host', 'pi1', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(execFileSync('stat', ['-c', '%U', join(out, 'pi1.img')], { encoding: 'utf8' }).trim(), 'nobody');
    assert.match(mread(join(out, 'pi1.img'), 'user-data'), /hostname: pi1\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('image prep of one new Pi needs only its host: an inventory without a farm, or with a farm its one host cannot run', () => {
  const dir = tempDir('hosts-only');
  try {
    const img = buildImage(dir, 'cloud');
    writeInventory(dir); // for its public key
    const host = ['hosts:', `  pi9: { address: 10.0.0.19, identity: ${join(dir, 'id_ed25519')} }`, 'defaults:', '  image: { timezone: Europe/London }'];
    for (const [name, lines] of [['no-farm.yaml', host], ['farm-too-big.yaml', [...host, 'farm: { model: alexnet, topology: alexnet-5 }']]] as const) {
      const inv = join(dir, name);
      writeFileSync(inv, lines.join('\n') + '\n');
      const r = cli(['image', 'prep', '--image', img, '-i', inv, '--host', 'pi9', '--lock-password', '--out', join(dir, `${name}.out`)]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.ok(mexists(join(dir, `${name}.out`, 'pi9.img'), 'user-data'), name);
    }
    // the farm commands still check the farm
    const up = cli(['deploy', '-i', join(dir, 'farm-too-big.yaml')]);
    assert.equal(up.status, 1);
    assert.match(up.stderr, /alexnet-5/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
