// Which files make the runtime bundle a Pi runs: the built runtime (dist/src), the role specs,
// package.json (it says "type": "module"), and the production node_modules the runtime needs,
// for one architecture. Control-only packages (ssh, progress display) stay home; so do source
// maps, type declarations, docs, and native binaries of other platforms.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_BUILDS, ORT_CURRENT } from '../engine/builds.js';
import type { Arch } from '../inventory/types.js';

/** dependencies the control machine needs and a Pi never loads */
export const CONTROL_ONLY = new Set(['node-ssh', 'ssh2', 'listr2', 'ora', 'multicast-dns', 'ssh-config', 'sharp', 'prom-client']);

const SKIP_FILE = /\.(map|d\.ts|d\.mts|d\.cts|md|markdown|html|tsbuildinfo)$/i;
const SKIP_DIR = new Set(['.bin', '.github', 'miniprogram', '.cache']);
/** built code a Pi never runs: the tools that run a farm on this machine */
const CONTROL_ONLY_DIRS = new Set(['dist/src/lab']);

/** Node's name of an architecture, as native package folders use it. */
export function nodeArch(arch: Arch): string {
  return arch === 'armhf' ? 'arm' : arch;
}

/** False for native binaries built for another platform or architecture than linux/<arch>. */
export function keepForArch(rel: string, arch: Arch): boolean {
  const a = nodeArch(arch);
  const napi = /\/bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(rel);
  if (napi) return napi[1] === 'linux' && napi[2] === a;
  const prebuilds = /\/prebuilds\/([^/]+)-([^/]+)\//.exec(rel);
  if (prebuilds) return prebuilds[1] === 'linux' && prebuilds[2] === a;
  return true;
}

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dev?: boolean;
  link?: boolean;
}

const TFJS_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node'];

/** Packages only one engine build loads (engines are imported lazily): a host gets only its build's. */
export const ENGINE_PACKAGES = [...new Set([...ENGINE_BUILDS.filter((b) => b.engine === 'onnx').map((b) => b.module), ...TFJS_PACKAGES])];

/** The packages of an engine ("onnx": the current onnxruntime, "tfjs") or of an engine build's module. */
export function enginePackages(engine: string): string[] {
  if (engine === 'tfjs' || TFJS_PACKAGES.includes(engine)) return TFJS_PACKAGES;
  return [engine === 'onnx' ? ORT_CURRENT.module : engine];
}

/** The node_modules folders (relative paths) the runtime needs, following package-lock.json. */
export function runtimePackageDirs(root: string, engine?: string): string[] {
  const own = engine === undefined ? ENGINE_PACKAGES : enginePackages(engine);
  const otherEngines = new Set(ENGINE_PACKAGES.filter((p) => !own.includes(p)));
  const lockFile = join(root, 'package-lock.json');
  if (!existsSync(lockFile)) throw new Error(`${lockFile} is missing: run npm install on the control machine first`);
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages?: Record<string, LockEntry> };
  const pkgs = lock.packages ?? {};
  const top = pkgs[''] ?? {};
  const found = new Set<string>();
  const resolveFrom = (from: string, name: string): string | undefined => {
    // node's lookup: the nearest node_modules up the tree
    let base = from;
    for (;;) {
      const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (pkgs[candidate] && existsSync(join(root, candidate))) return candidate;
      if (!base) return undefined;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut < 0 ? '' : base.slice(0, cut);
    }
  };
  const visit = (dir: string) => {
    if (found.has(dir)) return;
    found.add(dir);
    const e = pkgs[dir] ?? {};
    for (const name of Object.keys({ ...e.dependencies, ...e.optionalDependencies, ...e.peerDependencies })) {
      const d = resolveFrom(dir, name);
      if (d) visit(d);
    }
  };
  for (const name of Object.keys({ ...top.dependencies, ...top.optionalDependencies })) {
    if (CONTROL_ONLY.has(name) || otherEngines.has(name)) continue;
    const d = resolveFrom('', name);
    if (d) visit(d);
  }
  return [...found].sort();
}

/** Regular files under `dir` (relative to root), without the skipped kinds. */
function walk(root: string, dir: string, out: string[], arch: Arch): void {
  for (const ent of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${ent.name}`;
    if (ent.isDirectory()) {
      // nested node_modules are packages of their own, listed by runtimePackageDirs
      if (SKIP_DIR.has(ent.name) || ent.name === 'node_modules' || CONTROL_ONLY_DIRS.has(rel)) continue;
      walk(root, rel, out, arch);
    } else if (ent.isFile()) {
      if (SKIP_FILE.test(ent.name) || !keepForArch(rel, arch)) continue;
      out.push(rel);
    }
  }
}

/** Every file of the bundle for `arch` (and `engine`, an engine or a build's module: absent, all), relative to the project root, sorted. */
export function bundleFiles(root: string, arch: Arch, engine?: string): string[] {
  const out: string[] = [];
  if (!existsSync(join(root, 'dist/src/runtime/node-main.js'))) throw new Error(`${root}/dist/src/runtime/node-main.js is missing: run npm run build first`);
  walk(root, 'dist/src', out, arch);
  walk(root, 'roles', out, arch);
  out.push('package.json');
  for (const dir of runtimePackageDirs(root, engine)) {
    if (lstatSync(join(root, dir)).isDirectory()) walk(root, dir, out, arch);
  }
  return out.sort();
}
