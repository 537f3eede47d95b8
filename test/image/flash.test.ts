// flash on real loop devices: writes and verifies, and refuses a mounted device, a too-small card,
// a regular file, the running system's disk and an unconfirmed write. Also prep --in-place on a
// card (the loop device), which must leave every byte outside the boot partition as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTarget } from '../../src/image/flash.js';
import { BOOT_SIZE, BOOT_START, buildImage, hashRange, mread, tempDir } from './fixtures.js';
import { writeInventory } from './helpers.js';

const CLI = 'dist/src/cli/main.js';
const ENV = { ...process.env, PIFARM_TEST_PW: 'Corr3ct-Horse-pw', PIFARM_TEST_WIFI: 'wifi-Passphrase-42' };

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A loop device over a file of `mib` MiB of non-zero "old card" data; detached by the caller. */
function loop(dir: string, name: string, mib: number): { dev: string; file: string } {
  const file = join(dir, name);
  writeFileSync(file, Buffer.alloc(mib << 20, 0xa5));
  const dev = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
  return { dev, file };
}

function detach(dev: string) {
  spawnSync('losetup', ['-d', dev]);
}

test('flash writes the image to a loop device and verifies it; prep --in-place patches the card', () => {
  const dir = tempDir('flash');
  const { dev, file } = loop(dir, 'card.bin', 32);
  try {
    const img = buildImage(dir, 'bookworm');
    const { inventory } = writeInventory(dir);
    let r = cli(['image', 'prep', '--image', img, '-i', inventory, '--host', 'pi1', '--out', join(dir, 'out')]);
    assert.equal(r.status, 0, r.stderr);
    const pi1 = join(dir, 'out', 'pi1.img');

    r = cli(['image', 'flash', '--image', pi1, '--device', dev]);
    assert.notEqual(r.status, 0, 'no --yes and stdin is not a terminal: refused');
    assert.match(r.stderr, /refusing to overwrite .* without confirmation: stdin is not a terminal; add --yes/);
    assert.equal(readFileSync(file)[0], 0xa5, 'nothing written');

    r = cli(['image', 'flash', '--image', pi1, '--device', dev, '--yes']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`wrote and verified ${readFileSync(pi1).length} bytes to ${dev}`));
    assert.match(r.stderr, /verify .*100%/);
    const card = readFileSync(file);
    const image = readFileSync(pi1);
    assert.ok(card.subarray(0, image.length).equals(image), 'the card holds the image byte for byte');
    assert.equal(card[image.length], 0xa5, 'and nothing past its end was touched');

    r = cli(['image', 'inspect', dev]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /firstrun\.sh \(pifarm\): hostname pi1/);

    // patch the card in place for pi2: only the boot partition may change
    const outside = () => [hashRange(file, 0, BOOT_START), hashRange(file, BOOT_START + BOOT_SIZE, (32 << 20) - BOOT_START - BOOT_SIZE)];
    const before = outside();
    r = cli(['image', 'prep', '--image', dev, '-i', inventory, '--host', 'pi2', '--in-place']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(mread(file, 'firstrun.sh'), /set_hostname 'pi2'/);
    assert.equal(mread(file, 'cmdline.txt').match(/systemd\.run=/g)?.length, 1);
    assert.deepEqual(outside(), before, 'bytes outside the boot partition are unchanged');
  } finally {
    detach(dev);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flash refuses a mounted device, a too-small card, a regular file and the system disk', () => {
  const dir = tempDir('flash-refuse');
  const small = loop(dir, 'small.bin', 4);
  const busy = loop(dir, 'busy.bin', 8);
  const mnt = join(dir, 'mnt');
  let mounted = false;
  try {
    const img = buildImage(dir, 'plain');
    writeInventory(dir);
    let r = cli(['image', 'flash', '--image', img, '--device', small.dev, '--yes']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is 18874368 bytes but \/dev\/loop\d+ holds only 4194304; use a larger card/);

    execFileSync('mkfs.ext4', ['-q', '-F', busy.dev]);
    mkdirSync(mnt);
    execFileSync('mount', [busy.dev, mnt]);
    mounted = true;
    const before = hashRange(busy.file, 0, 8 << 20);
    r = cli(['image', 'flash', '--image', img, '--device', busy.dev, '--yes']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`${busy.dev} is in use: ${busy.dev}\\S* is mounted on ${mnt}; unmount it first`));
    r = cli(['image', 'prep', '--image', busy.dev, '--host', 'pi9', '--public-key', join(dir, 'id_ed25519.pub'), '--in-place']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is in use: .* is mounted on/, 'prep --in-place refuses a mounted card too');
    assert.equal(hashRange(busy.file, 0, 8 << 20), before, 'the mounted device is untouched');

    r = cli(['image', 'flash', '--image', img, '--device', img, '--yes']);
    assert.match(r.stderr, /not a block device/);

    // The disk the root file system lives on: only checked (checkTarget reads, never writes).
    const root = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[4] === '/')!;
    const sys = `/sys/dev/block/${root[2]}`;
    if (existsSync(sys)) {
      const real = execFileSync('realpath', [sys], { encoding: 'utf8' }).trim();
      const disk = existsSync(join(real, 'partition')) ? real.split('/').at(-2)! : real.split('/').at(-1)!;
      assert.throws(() => checkTarget(`/dev/${disk}`), /holds the running system's root file system/);
    } else {
      // root on an overlay or tmpfs (a container): there is no system disk to protect here
      assert.equal(root[2]!.split(':')[0], '0', `root ${root[2]} has no /sys/dev/block entry only when it is a virtual file system`);
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('partial')), []);
  } finally {
    if (mounted) spawnSync('umount', [mnt]);
    detach(small.dev);
    detach(busy.dev);
    rmSync(dir, { recursive: true, force: true });
  }
});
