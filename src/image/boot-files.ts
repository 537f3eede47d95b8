// What to write to one host's boot partition (a plan, computed without writing), and applying a
// plan with read-back verification. Planning runs for every host first, so every refusal (full
// partition, missing cmdline.txt, legacy with a locked password) comes before any write.
import { ImageError } from './errors.js';
import { freeBytes, listDir, readFile, tryReadFile, writeFile, type FatVolume } from './fat.js';
import { detectFlavour, type Flavour, type Format } from './flavour.js';
import { metaData, networkConfig, newInstanceId, userData } from './cloud-init.js';
import { firstrunScript } from './firstrun.js';
import { legacyFiles, legacyIgnored } from './legacy.js';
import { patchCmdline } from './cmdline.js';
import type { FatInfo } from './partitions.js';
import type { HostImage } from './settings.js';

export interface BootPlan {
  host: string;
  flavour: Flavour;
  writes: { path: string; data: Buffer }[];
  warnings: string[];
}

function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

export function planBoot(vol: FatVolume, fat: FatInfo, h: HostImage, format?: Format, where = vol.image): BootPlan {
  const files = listDir(vol);
  const has = (n: string) => files.find((f) => !f.dir && f.name.toLowerCase() === n);
  const issue = has('issue.txt') ? readFile(vol, '/issue.txt').toString('utf8') : undefined;
  const detected = detectFlavour(fat.label, files, issue);
  const flavour: Flavour = format && format !== detected.format ? { ...detected, format, reason: `--format ${format} (detected: ${detected.reason})` } : detected;

  const writes: { path: string; data: string | Buffer }[] = [];
  const warnings: string[] = [];
  if (flavour.format === 'cloud-init') {
    writes.push({ path: '/user-data', data: userData(h, flavour.os) }, { path: '/meta-data', data: metaData(h, newInstanceId(h.hostname)) }, { path: '/network-config', data: networkConfig(h) });
  } else if (flavour.format === 'firstrun') {
    writes.push({ path: '/firstrun.sh', data: firstrunScript(h) });
  } else {
    writes.push(...legacyFiles(h));
    warnings.push(`host ${h.hostname}: the legacy format cannot set: ${legacyIgnored(h).join(', ')}`);
  }

  const cmdline = has('cmdline.txt') ? readFile(vol, '/cmdline.txt').toString('utf8') : undefined;
  if (flavour.format === 'firstrun' && cmdline === undefined) throw new ImageError(`${where}: the boot partition has no cmdline.txt, so firstrun.sh cannot be started; use --format cloud-init or legacy`);
  if (cmdline !== undefined) {
    const patched = patchCmdline(cmdline, { regdom: h.wifi?.country, firstrun: flavour.format === 'firstrun' });
    if (patched !== cmdline) writes.push({ path: '/cmdline.txt', data: patched });
  } else if (h.wifi) {
    warnings.push(`host ${h.hostname}: no cmdline.txt, so the Wi-Fi regulatory domain is not on the kernel command line`);
  }

  // Space: every file takes whole clusters; a replaced file gives its clusters back. One cluster
  // of margin covers a directory that must grow for the long-name entries.
  const bufs = writes.map((w) => ({ path: w.path, data: Buffer.from(w.data) }));
  let need = fat.clusterBytes;
  for (const w of bufs) {
    const old = has(w.path.slice(1).toLowerCase());
    need += roundUp(w.data.length, fat.clusterBytes) - (old ? roundUp(old.size, fat.clusterBytes) : 0);
  }
  const free = freeBytes(vol);
  if (need > free) {
    throw new ImageError(`${where}: the boot partition (${fat.fatType} "${fat.label}" at byte ${vol.offset}) has ${free} bytes free but host ${h.hostname}'s files need ${need}; remove files from it or use an image with a larger boot partition`);
  }
  return { host: h.hostname, flavour, writes: bufs, warnings };
}

/** Writes the plan's files, then reads each back and compares it byte for byte. */
export function applyBoot(vol: FatVolume, plan: BootPlan): void {
  for (const w of plan.writes) writeFile(vol, w.path, w.data);
  verifyBoot(vol, plan);
}

export function verifyBoot(vol: FatVolume, plan: BootPlan): void {
  for (const w of plan.writes) {
    const back = tryReadFile(vol, w.path);
    if (!back || !back.equals(w.data)) {
      throw new ImageError(`${vol.image}: ${w.path} reads back ${back ? `${back.length} bytes that differ from` : 'missing instead of'} the ${w.data.length} bytes written`);
    }
  }
}
