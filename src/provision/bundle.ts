// The runtime bundle: the bundle's files (bundle-files.ts) as one gzip tar, named by a hash of
// their content, built once per architecture and kept in .pifarm/bundles. Per-file hashes are
// cached by size and mtime, so an unchanged tree is recognised without reading it again (this is
// what makes a no-change deploy fast).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../inventory/types.js';
import { bundleFiles } from './bundle-files.js';

export interface Bundle {
  /** content hash: the release folder's name on the hosts */
  hash: string;
  arch: Arch;
  /** the gzip tar */
  file: string;
  bytes: number;
  files: number;
  /** bytes before compression */
  rawBytes: number;
  /** the same tar compressed with zstd (when this machine has zstd): unpacks ~4x faster than gzip */
  zst?: { file: string; bytes: number };
}

interface FileHashCache {
  [rel: string]: { size: number; mtimeMs: number; mode: number; sha: string };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** The content hash of the file list; also returns the total size. */
async function hashFiles(root: string, files: string[], cacheFile: string): Promise<{ hash: string; rawBytes: number }> {
  let cache: FileHashCache = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as FileHashCache;
  } catch {
    /* no cache yet */
  }
  const next: FileHashCache = {};
  const h = createHash('sha256');
  let rawBytes = 0;
  let changed = false;
  for (const rel of files) {
    const st = statSync(join(root, rel));
    let e = cache[rel];
    if (!e || e.size !== st.size || e.mtimeMs !== st.mtimeMs || e.mode !== st.mode) {
      e = { size: st.size, mtimeMs: st.mtimeMs, mode: st.mode, sha: await sha256File(join(root, rel)) };
      changed = true;
    }
    next[rel] = e;
    rawBytes += st.size;
    h.update(`${rel}\0${(e.mode & 0o111) !== 0 ? 'x' : '-'}\0${e.sha}\n`);
  }
  if (changed || Object.keys(cache).length !== files.length) writeFileSync(cacheFile, JSON.stringify(next));
  return { hash: h.digest('hex').slice(0, 16), rawBytes };
}

function tarTo(root: string, listFile: string, out: string, compress: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('tar', ['-C', root, '--null', '-T', listFile, '--owner=0', '--group=0', '--numeric-owner', ...compress, '-cf', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar failed (${code}): ${err.trim()}`))));
  });
}

let zstd: boolean | undefined;
function hasZstd(): boolean {
  zstd ??= spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
  return zstd;
}

const inflight = new Map<string, Promise<Bundle>>();

/** The bundle of `root` for `arch`, built if not cached. Concurrent callers share one build. */
export function buildBundle(root: string, arch: Arch, cacheDir: string, engine?: string): Promise<Bundle> {
  const key = `${root}\0${arch}\0${cacheDir}\0${engine}`;
  let p = inflight.get(key);
  if (!p) {
    p = build(root, arch, cacheDir, engine).finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

async function build(root: string, arch: Arch, cacheDir: string, engine?: string): Promise<Bundle> {
  mkdirSync(cacheDir, { recursive: true });
  const files = bundleFiles(root, arch, engine);
  const { hash: contentHash, rawBytes } = await hashFiles(root, files, join(cacheDir, `files-${arch}-${(engine ?? 'all').replace(/[^\w.-]/g, '_')}.json`));
  const hash = `${contentHash}-${arch}`;
  const file = join(cacheDir, `${hash}.tar.gz`);
  const list = join(cacheDir, `${hash}.list`);
  const make = async (out: string, compress: string[]) => {
    if (existsSync(out)) return;
    writeFileSync(list, files.join('\0') + '\0');
    const tmp = `${out}.tmp.${process.pid}`;
    await tarTo(root, list, tmp, compress);
    renameSync(tmp, out);
  };
  await make(file, ['-z']);
  const b: Bundle = { hash, arch, file, bytes: statSync(file).size, files: files.length, rawBytes };
  if (hasZstd()) {
    const zst = join(cacheDir, `${hash}.tar.zst`);
    await make(zst, ['-I', 'zstd -6 -T0 -q']);
    b.zst = { file: zst, bytes: statSync(zst).size };
  }
  return b;
}
