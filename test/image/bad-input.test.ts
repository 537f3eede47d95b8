// Every bad input is refused before anything is written, with a message that says what and where;
// a failure half-way through leaves the input image as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import { rawFromInventory, type ImageOverrides } from '../../src/image/from-inventory.js';
import { prepImages } from '../../src/image/prep.js';
import { resolveHosts } from '../../src/image/settings.js';
import { buildImage, tempDir, type BuildOptions } from './fixtures.js';
import { SECRETS, writeInventory } from './helpers.js';

async function attempt(opts: { hosts?: string[]; build?: BuildOptions; o?: ImageOverrides; env?: Record<string, string>; mutate?: (img: string, dir: string) => string; edit?: (inventory: string) => string; prepare?: (dir: string) => void }) {
  const dir = tempDir('bad');
  try {
    const img0 = buildImage(dir, 'bookworm', opts.build);
    const img = opts.mutate ? opts.mutate(img0, dir) : img0;
    const before = readFileSync(img);
    const { inventory } = writeInventory(dir);
    if (opts.edit) writeFileSync(inventory, opts.edit(readFileSync(inventory, 'utf8')));
    opts.prepare?.(dir);
    const out = join(dir, 'out');
    const cache = join(dir, 'cache');
    let err: Error | undefined;
    try {
      const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), opts.hosts ?? ['pi1', 'pi2'], opts.o ?? {}), { env: { ...SECRETS.env, ...opts.env } });
      await prepImages({ image: img, hosts, outDir: out, cacheDir: cache });
    } catch (e) {
      err = e as Error;
    }
    assert.ok(err, 'the bad input was refused');
    assert.ok(!existsSync(out) || readdirSync(out).length === 0, `nothing was written to the output dir: ${existsSync(out) ? readdirSync(out).join(', ') : ''}`);
    assert.ok(readFileSync(img).equals(before), 'the input image is unchanged');
    if (existsSync(cache)) assert.deepEqual(readdirSync(cache), [], 'no partial file left in the cache');
    return { message: err.message, img };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an image without a FAT boot partition', async () => {
  const { message, img } = await attempt({ build: { noFat: true } });
  assert.match(message, /no FAT boot partition \(partitions: 1:83, 2:83\)/);
  assert.ok(message.startsWith(img));
});

test('a truncated image', async () => {
  const { message } = await attempt({ mutate: (img) => (truncateSync(img, 12 << 20), img) });
  assert.match(message, /truncated: partition 2 ends at byte 17825792 but the image has only 12582912 bytes/);
});

test('a corrupted xz stream', async () => {
  const { message } = await attempt({
    mutate: (img) => {
      execFileSync('xz', ['-T1', '-0', '-k', img]);
      const xz = readFileSync(`${img}.xz`);
      for (let i = 200; i < 260; i++) xz[Math.floor(xz.length / 2) + i] ^= 0x5a;
      writeFileSync(`${img}.xz`, xz);
      return `${img}.xz`;
    },
  });
  assert.match(message, /bookworm\.img\.xz: the xz stream is corrupt or truncated \(.*(corrupt|error).*\)/i);
});

test('a boot partition too full for the files', async () => {
  const { message } = await attempt({ build: { fillBootTo: 1024 } });
  assert.match(message, /the boot partition \(FAT\d+ "bootfs" at byte 1048576\) has \d+ bytes free but host pi1's files need \d+/);
});

test('a host name that is not a valid hostname (flag)', async () => {
  const { message } = await attempt({ hosts: ['pi1'], o: { hostname: 'pi-1-' } });
  assert.match(message, /farm\.yaml: host pi1: hostname: "pi-1-" is not a valid host name/);
});

test('a host name that is not a valid hostname (inventory)', async () => {
  const { message } = await attempt({ hosts: ['pi_1'], edit: (t) => t.replace('  pi1: 10.0.0.11', '  pi_1: 10.0.0.11') });
  assert.match(message, /farm\.yaml: host pi_1: hostname: "pi_1" is not a valid host name/);
});

test('a Wi-Fi country that is not an ISO code', async () => {
  const { message } = await attempt({ o: { wifiCountry: 'XX' } });
  assert.match(message, /farm\.yaml: host pi1: wifi\.country: "XX" is not an ISO 3166-1 alpha-2 country code/);
});

test('a Wi-Fi passphrase shorter than 8 or longer than 63 characters', async () => {
  for (const pass of ['seven77', 'x'.repeat(64)]) {
    const { message } = await attempt({ env: { PIFARM_TEST_WIFI: pass } });
    assert.match(message, new RegExp(`host pi1: wifi passphrase \\(PIFARM_TEST_WIFI\\): the Wi-Fi passphrase must be 8 to 63 characters, got ${pass.length}`));
    assert.ok(!message.includes(pass), 'the passphrase itself is not printed');
  }
});

test('a public key that does not parse', async () => {
  const { message } = await attempt({
    prepare: (dir) => writeFileSync(join(dir, 'id_ed25519.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBrokenKey farm\n'),
  });
  assert.match(message, /host pi1: public key .*id_ed25519\.pub:1: the ssh-ed25519 key does not parse/);
});

test('a failure half-way through an in-place prep leaves the image unchanged', async () => {
  const dir = tempDir('halfway');
  const path = process.env.PATH;
  try {
    const img = buildImage(dir, 'cloud');
    const { inventory } = writeInventory(dir);
    const before = readFileSync(img);
    const hosts = await resolveHosts(rawFromInventory(loadInventory(inventory), ['pi1'], {}), SECRETS);
    // a real mcopy that fails on the third file, after two were written
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const real = execFileSync('sh', ['-c', 'command -v mcopy'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'mcopy'), `#!/bin/sh\ncase "$*" in *::/network-config*) case "$*" in *" - "*) echo "mcopy: disk full (injected)" >&2; exit 1;; esac;; esac\nexec ${real} "$@"\n`);
    chmodSync(join(bin, 'mcopy'), 0o755);
    process.env.PATH = `${bin}:${path}`;
    await assert.rejects(prepImages({ image: img, hosts, inPlace: true }), /disk full \(injected\)/);
    assert.ok(readFileSync(img).equals(before), 'the input image is byte for byte unchanged');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), [], 'the temporary copy is gone');
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});
