// `pifarm image prep`: one customised image per host, or one image / card patched in place.
// Order: read and check the source, plan every host (all refusals happen here), then write each
// host into a temporary copy and rename it into place, so a failure never leaves a half-made image
// under the final name nor a changed input.
import { closeSync, constants, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { applyBoot, planBoot, verifyBoot, type BootPlan } from './boot-files.js';
import { ImageError } from './errors.js';
import type { Format } from './flavour.js';
import { checkTarget } from './flash.js';
import { findBootPartition, readPartitionTable, type Partition } from './partitions.js';
import type { HostImage } from './settings.js';
import { isXz, rawImage, sparseCopy } from './source.js';

export interface PrepOptions {
  /** .img, .img.xz, or (with inPlace) a block device */
  image: string;
  hosts: HostImage[];
  /** one DIR/NAME.img per host */
  outDir?: string;
  /** patch `image` itself (one host only) */
  inPlace?: boolean;
  format?: Format;
  cacheDir?: string;
  log?: (msg: string) => void;
}

export interface PrepResult {
  host: string;
  output: string;
  format: Format;
  reason: string;
  files: string[];
  warnings: string[];
}

function result(plan: BootPlan, output: string): PrepResult {
  return { host: plan.host, output, format: plan.flavour.format, reason: plan.flavour.reason, files: plan.writes.map((w) => w.path.slice(1)), warnings: plan.warnings };
}

export async function prepImages(o: PrepOptions): Promise<PrepResult[]> {
  const log = o.log ?? (() => {});
  if (o.hosts.length === 0) throw new ImageError('no hosts to prepare an image for');
  if (o.inPlace && o.outDir) throw new ImageError('give either --out DIR or --in-place, not both');
  if (!o.inPlace && !o.outDir) throw new ImageError('give --out DIR (one image per host) or --in-place');
  if (o.inPlace && o.hosts.length !== 1) throw new ImageError(`--in-place patches one image, for one host; got ${o.hosts.length} hosts (use --host NAME)`);
  if (o.inPlace && isXz(o.image)) throw new ImageError(`${o.image}: cannot patch a compressed image in place; decompress it first or use --out`);

  // The same refusals as flash, first: never patch a card that is mounted (a desktop may have
  // automounted it), a partition, or the running system's disk.
  if (o.inPlace && existsSync(o.image) && statSync(o.image).isBlockDevice()) checkTarget(o.image);
  const src = await rawImage(o.image, o.cacheDir, log);
  const table = readPartitionTable(src);
  const { part, fat } = findBootPartition(src, table);
  const vol = { image: src, offset: part.start };
  const plans = o.hosts.map((h) => planBoot(vol, fat, h, o.format, o.image));

  if (o.inPlace) {
    const isDevice = statSync(src).isBlockDevice();
    if (isDevice) patchDevice(src, part, plans[0]!);
    else patchFileInPlace(src, part, plans[0]!);
    return [result(plans[0]!, src)];
  }

  mkdirSync(o.outDir!, { recursive: true });
  const results: PrepResult[] = [];
  for (const plan of plans) {
    const final = join(o.outDir!, `${plan.host}.img`);
    const tmp = join(o.outDir!, `.${plan.host}.img.partial-${process.pid}`);
    try {
      sparseCopy(src, tmp);
      applyBoot({ image: tmp, offset: part.start }, plan);
      renameSync(tmp, final);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    log(`${plan.host}: ${final} (${plan.flavour.format})`);
    results.push(result(plan, final));
  }
  return results;
}

function patchFileInPlace(image: string, part: Partition, plan: BootPlan): void {
  const tmp = join(dirname(image), `.${basename(image)}.partial-${process.pid}`);
  try {
    sparseCopy(image, tmp);
    applyBoot({ image: tmp, offset: part.start }, plan);
    renameSync(tmp, image);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function copyRange(fromFd: number, fromPos: number, toFd: number, toPos: number, len: number): void {
  const buf = Buffer.alloc(Math.min(len, 4 << 20));
  for (let done = 0; done < len; ) {
    const n = readSync(fromFd, buf, 0, Math.min(buf.length, len - done), fromPos + done);
    if (n <= 0) throw new ImageError(`short read at byte ${fromPos + done}`);
    writeSync(toFd, buf, 0, n, toPos + done);
    done += n;
  }
}

// A card cannot be renamed over, so the boot partition alone is copied out, patched and verified
// as a file, and only then written back; the other partitions are never opened for writing.
function patchDevice(device: string, part: Partition, plan: BootPlan): void {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-boot-'));
  const file = join(dir, 'boot.fat');
  try {
    const dev = openSync(device, 'r');
    const out = openSync(file, 'w');
    try {
      copyRange(dev, part.start, out, 0, part.size);
    } finally {
      closeSync(out);
      closeSync(dev);
    }
    applyBoot({ image: file, offset: 0 }, plan);
    const inFd = openSync(file, 'r');
    const devW = openSync(device, constants.O_WRONLY | constants.O_EXCL);
    try {
      copyRange(inFd, 0, devW, part.start, part.size);
      fsyncSync(devW);
    } finally {
      closeSync(devW);
      closeSync(inFd);
    }
    // read back through mtools on the device itself: what the Pi will see
    verifyBoot({ image: device, offset: part.start }, plan);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
