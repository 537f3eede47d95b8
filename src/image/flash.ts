// `pifarm image flash`: an image onto a card. Refuses a device that is (or holds) a mounted file
// system or swap, the disk the running system lives on, a partition instead of a whole disk, and a
// card smaller than the image; writes with a progress callback, flushes the kernel's buffers, then
// reads the card back and compares hashes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, existsSync, fsyncSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ImageError } from './errors.js';
import { byteSize } from './partitions.js';

const CHUNK = 4 << 20;

export interface FlashTarget {
  device: string;
  /** kernel name, e.g. sdb, mmcblk0, loop3 */
  name: string;
  size: number;
}

function sysBlock(name: string): string {
  return join('/sys/class/block', name);
}

/** "maj:min" of the device and of each of its partitions. */
function devNumbers(name: string): Map<string, string> {
  const out = new Map<string, string>();
  const dir = sysBlock(name);
  out.set(readFileSync(join(dir, 'dev'), 'utf8').trim(), name);
  for (const e of readdirSync(dir)) {
    const dev = join(dir, e, 'dev');
    if (existsSync(join(dir, e, 'partition')) && existsSync(dev)) out.set(readFileSync(dev, 'utf8').trim(), e);
  }
  return out;
}

/** The whole disk behind a "maj:min" (a partition's parent, or the disk itself). */
function diskOf(majmin: string): string | undefined {
  const p = `/sys/dev/block/${majmin}`;
  if (!existsSync(p)) return undefined;
  const real = realpathSync(p);
  return existsSync(join(real, 'partition')) ? basename(dirname(real)) : basename(real);
}

export function checkTarget(device: string): FlashTarget {
  let st;
  try {
    st = statSync(device);
  } catch {
    throw new ImageError(`${device}: no such device`);
  }
  if (!st.isBlockDevice()) throw new ImageError(`${device}: not a block device; give the card's whole-disk device, e.g. /dev/sdb or /dev/mmcblk0`);
  const name = basename(realpathSync(device));
  if (!existsSync(sysBlock(name))) throw new ImageError(`${device}: no /sys/class/block/${name}; cannot check what it holds`);
  if (existsSync(join(sysBlock(name), 'partition'))) {
    throw new ImageError(`${device} is a partition of /dev/${basename(dirname(realpathSync(sysBlock(name))))}; give the whole card, not a partition`);
  }
  const mine = devNumbers(name);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
  const root = mounts.find((f) => f[4] === '/');
  if (root && diskOf(root[2]!) === name) throw new ImageError(`${device} holds the running system's root file system; refusing to overwrite it`);
  for (const f of mounts) {
    const part = mine.get(f[2]!);
    if (part) throw new ImageError(`${device} is in use: /dev/${part} is mounted on ${f[4]}; unmount it first (e.g. umount /dev/${part})`);
  }
  for (const line of readFileSync('/proc/swaps', 'utf8').split('\n').slice(1)) {
    const dev = line.split(/\s+/)[0];
    if (dev && dev.startsWith('/dev/') && existsSync(dev) && [...mine.values()].includes(basename(realpathSync(dev)))) {
      throw new ImageError(`${device} is in use: ${dev} is active swap; swapoff it first`);
    }
  }
  const fd = openSync(device, 'r');
  try {
    return { device, name, size: byteSize(fd) };
  } finally {
    closeSync(fd);
  }
}

export interface FlashResult {
  bytes: number;
  sha256: string;
  seconds: number;
}

/** Writes `image` (a raw image) to a checked target, then verifies it. */
export function flashImage(image: string, target: FlashTarget, progress: (phase: 'write' | 'verify', done: number, total: number) => void = () => {}): FlashResult {
  const total = statSync(image).size;
  if (total > target.size) throw new ImageError(`${image} is ${total} bytes but ${target.device} holds only ${target.size}; use a larger card`);
  const t0 = Date.now();
  const src = openSync(image, 'r');
  // O_EXCL on a block device: the kernel refuses it while anything has the device claimed (mounted)
  let dst: number;
  try {
    dst = openSync(target.device, constants.O_WRONLY | constants.O_EXCL);
  } catch (e) {
    closeSync(src);
    throw new ImageError(`${target.device}: cannot open for writing (${(e as NodeJS.ErrnoException).code}); is it in use?`);
  }
  const want = createHash('sha256');
  const buf = Buffer.alloc(CHUNK);
  try {
    for (let done = 0; done < total; ) {
      const n = readSync(src, buf, 0, Math.min(CHUNK, total - done), done);
      if (n <= 0) throw new ImageError(`${image}: short read at byte ${done}`);
      want.update(buf.subarray(0, n));
      for (let w = 0; w < n; ) w += writeSync(dst, buf, w, n - w, done + w);
      done += n;
      progress('write', done, total);
    }
    fsyncSync(dst);
  } finally {
    closeSync(dst);
    closeSync(src);
  }
  // Drop the kernel's cached copy so the read-back comes from the card, not from memory.
  spawnSync('blockdev', ['--flushbufs', target.device]);
  const got = createHash('sha256');
  const fd = openSync(target.device, 'r');
  try {
    for (let done = 0; done < total; ) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, total - done), done);
      if (n <= 0) throw new ImageError(`${target.device}: short read at byte ${done} while verifying`);
      got.update(buf.subarray(0, n));
      done += n;
      progress('verify', done, total);
    }
  } finally {
    closeSync(fd);
  }
  const a = want.digest('hex');
  const b = got.digest('hex');
  if (a !== b) throw new ImageError(`${target.device}: verification failed: the card reads back sha256 ${b}, the image is ${a}; the card may be faulty`);
  return { bytes: total, sha256: a, seconds: (Date.now() - t0) / 1000 };
}
