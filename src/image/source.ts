// Where the bytes come from: a plain .img as is, an .img.xz decompressed once (streamed, never
// whole in memory) into a cache keyed by the file's identity; per-host copies are sparse/reflinked.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ImageError } from './errors.js';

export function defaultCacheDir(): string {
  if (process.env.PIFARM_CACHE_DIR) return process.env.PIFARM_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pifarm', 'images');
}

export function isXz(path: string): boolean {
  return path.toLowerCase().endsWith('.xz');
}

/** The path of a raw image for `path`, decompressing an .xz into the cache on first use. */
export async function rawImage(path: string, cacheDir = defaultCacheDir(), log: (m: string) => void = () => {}): Promise<string> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ImageError(`${path}: no such image file`);
  }
  if (!isXz(path)) return path;
  const real = realpathSync(path);
  const key = createHash('sha256').update(`${real}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16);
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `${basename(path).replace(/\.xz$/i, '').replace(/\.img$/i, '')}-${key}.img`);
  if (existsSync(out)) return out;
  log(`decompressing ${path} into ${out} (once)`);
  const partial = `${out}.partial-${process.pid}`;
  try {
    await new Promise<void>((resolve, reject) => {
      const xz = spawn('xz', ['-dc', '--', real], { stdio: ['ignore', 'pipe', 'pipe'] });
      const sink = createWriteStream(partial);
      let stderr = '';
      xz.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      xz.stdout.pipe(sink);
      xz.on('error', (e: NodeJS.ErrnoException) => reject(new ImageError(e.code === 'ENOENT' ? 'xz not found: install the Debian package xz-utils' : `xz: ${e.message}`)));
      let code: number | null = null;
      let done = 0;
      const finish = () => {
        if (++done < 2) return;
        if (code === 0) resolve();
        else reject(new ImageError(`${path}: the xz stream is corrupt or truncated (${stderr.trim().replace(/^xz: /, '') || `xz exit ${code}`}); download it again`));
      };
      xz.on('close', (c) => {
        code = c;
        finish();
      });
      sink.on('close', finish);
      sink.on('error', (e) => reject(new ImageError(`${partial}: ${e.message}`)));
    });
    // Punch holes where the image is zeros, so the cache and its copies take only the used space.
    spawnSync('fallocate', ['--dig-holes', partial]);
    renameSync(partial, out);
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
  return out;
}

/** Copies an image file cheaply: a reflink where the file system allows, else a sparse copy. */
export function sparseCopy(src: string, dst: string): void {
  const r = spawnSync('cp', ['--reflink=auto', '--sparse=always', '--', src, dst], { encoding: 'utf8' });
  if (r.status !== 0) throw new ImageError(`copying ${src} to ${dst}: ${r.stderr?.trim() || r.error?.message || `cp exit ${r.status}`}`);
}
