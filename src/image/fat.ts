// Files on a FAT partition inside an image, through mtools (`-i IMAGE@@OFFSET`): no root, no mount,
// long file names kept. Every call touches only the byte range of that one partition.
import { spawnSync } from 'node:child_process';
import { ImageError } from './errors.js';

export interface FatVolume {
  /** image file (or an extracted partition file, offset 0) */
  image: string;
  /** byte offset of the FAT file system in `image` */
  offset: number;
}

export interface FatEntry {
  name: string;
  size: number;
  dir: boolean;
}

// A clean environment: no user ~/.mtoolsrc drive letters, and no refusal of images whose geometry
// mtools finds odd (small test images, images from other formatters).
function env(): NodeJS.ProcessEnv {
  return { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null', LC_ALL: 'C' };
}

function mtools(tool: string, args: string[], vol: FatVolume, input?: Buffer): Buffer {
  const r = spawnSync(tool, ['-i', `${vol.image}@@${vol.offset}`, ...args], { env: env(), input, maxBuffer: 1 << 30 });
  // EPIPE: the tool exited before reading all its input (e.g. the partition filled up); its own
  // message on stderr says why, so report that rather than the broken pipe.
  const epipe = (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' && r.status !== null;
  if (r.error && !epipe) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new ImageError(code === 'ENOENT' ? `${tool} not found: install the Debian package mtools` : `${tool}: ${r.error.message}`);
  }
  if (r.status !== 0 || epipe) throw new ImageError(`${tool} ${args.join(' ')} on ${vol.image}@${vol.offset}: ${r.stderr?.toString().trim() || `exit ${r.status}`}`);
  return r.stdout;
}

/** The entries of a directory (root by default). */
export function listDir(vol: FatVolume, dir = '/'): FatEntry[] {
  const out = mtools('mdir', [`::${dir}`], vol).toString('latin1');
  const entries: FatEntry[] = [];
  for (const line of out.split('\n')) {
    // mdir lines: 8.3 name in columns 0-11, then size or <DIR>, date, time, and the long name if any
    const m = /^\s*(\d+|<DIR>)\s+\d{4}-\d\d-\d\d\s+\d\d?:\d\d\s?(.*)$/.exec(line.slice(12));
    if (!m || line.startsWith(' ')) continue;
    const short = line.slice(0, 8).trim();
    const ext = line.slice(9, 12).trim();
    const name = m[2]!.trim() || (ext ? `${short}.${ext}` : short);
    if (name === '.' || name === '..') continue;
    entries.push({ name, size: m[1] === '<DIR>' ? 0 : Number(m[1]), dir: m[1] === '<DIR>' });
  }
  return entries;
}

export function freeBytes(vol: FatVolume): number {
  const out = mtools('mdir', ['::/'], vol).toString('latin1');
  const m = /([\d ]+) bytes free/.exec(out);
  if (!m) throw new ImageError(`mdir on ${vol.image}@${vol.offset}: could not read the free space`);
  return Number(m[1]!.replace(/ /g, ''));
}

export function readFile(vol: FatVolume, path: string): Buffer {
  return mtools('mcopy', ['-n', `::${path}`, '-'], vol);
}

/** The file's content, or undefined when it does not exist. */
export function tryReadFile(vol: FatVolume, path: string): Buffer | undefined {
  const entries = listDir(vol, path.slice(0, path.lastIndexOf('/') + 1) || '/');
  const base = path.slice(path.lastIndexOf('/') + 1);
  return entries.some((e) => !e.dir && e.name.toLowerCase() === base.toLowerCase()) ? readFile(vol, path) : undefined;
}

export function writeFile(vol: FatVolume, path: string, data: Buffer | string): void {
  mtools('mcopy', ['-o', '-', `::${path}`], vol, Buffer.from(data));
}
