#!/usr/bin/env node
// Enforces the module map of docs/ARCHITECTURE.md: which folder may import which.
// - A folder of src/ imports only the folders its rule lists (and itself).
// - The code a Pi runs (every file reached from its entry points: node-main, sender-main,
//   profile-main) stays inside runtime/, engine/, model/ and those entries, and never loads ssh,
//   listr2 or ora: it must run on Node 18 from the bundle alone.
// - bench/ may import src/ (lab/ included), never test/; test/ may import src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

/** folder of src/ -> the folders it may import */
const MAY_IMPORT = {
  model: [],
  engine: ['model'],
  runtime: ['engine', 'model'],
  inventory: ['engine', 'model', 'topology'],
  topology: ['engine', 'inventory', 'model', 'runtime'],
  transport: ['inventory'],
  provision: ['engine', 'inventory', 'model', 'runtime', 'topology', 'transport'],
  report: ['inventory', 'model', 'runtime', 'topology'],
  image: ['inventory', 'transport'],
  sources: ['model', 'report', 'runtime'],
  live: ['model', 'report', 'runtime'],
  farm: ['elastic', 'engine', 'inventory', 'live', 'model', 'provision', 'report', 'runtime', 'sources', 'topology', 'transport'],
  elastic: ['model', 'report', 'runtime', 'topology'],
  lab: ['elastic', 'engine', 'farm', 'inventory', 'live', 'model', 'provision', 'report', 'runtime', 'sources', 'topology', 'transport'],
  cli: ['elastic', 'engine', 'farm', 'image', 'inventory', 'lab', 'live', 'model', 'provision', 'report', 'runtime', 'sources', 'topology', 'transport'],
};
const PI_ENTRIES = ['src/runtime/node-main.ts', 'src/runtime/compute-worker.ts', 'src/runtime/sender-main.ts', 'src/topology/profile-main.ts'];
const PI_FOLDERS = new Set(['runtime', 'engine', 'model']);
/** the profiler a Pi runs for `pifarm plan --profile`, and the cost model it measures for */
const PI_FILES_ELSEWHERE = new Set(['src/topology/profile.ts', 'src/topology/profile-imported.ts', 'src/topology/cost-model.ts', 'src/sources/open-video.ts', 'src/sources/ffmpeg.ts', 'src/sources/source-error.ts']);
/** one file's import beyond its folder's: the Pi's sender reads video and cameras with ffmpeg (no sharp) */
const FILE_MAY_IMPORT = { 'src/runtime/sender-main.ts': ['src/sources/open-video.ts'] };
const FORBIDDEN_ON_PI = ['node-ssh', 'ssh2', 'listr2', 'ora'];

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** [specifier, line, resolved .ts path or undefined for a package] of every import of a file */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const re = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out = [];
  let m;
  while ((m = re.exec(text))) {
    const spec = m[1] ?? m[2];
    const line = text.slice(0, m.index).split('\n').length;
    const isType = /^import\s+type\s/.test(m[0]) || /^export\s+type\s/.test(m[0]);
    out.push({ spec, line, isType, path: spec.startsWith('.') ? relative('.', resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : undefined });
  }
  return out;
}

const folderOf = (path) => (path.startsWith('src/') ? path.split('/')[1] : path.split('/')[0]);
const problems = [];

for (const file of [...walk('src'), ...walk('bench'), ...walk('test')]) {
  const mod = folderOf(file);
  for (const { spec, line, path } of importsOf(file)) {
    if (!path) continue;
    const top = path.split('/')[0];
    if (file.startsWith('src/')) {
      const target = folderOf(path);
      if (top !== 'src') problems.push(`${file}:${line}: src/ may not import ${top}/ (${spec})`);
      else if (target !== mod && !(MAY_IMPORT[mod] ?? []).includes(target) && !(FILE_MAY_IMPORT[file] ?? []).includes(path)) problems.push(`${file}:${line}: ${mod}/ may not import ${target}/ (${spec}); ${mod}/ may import ${(MAY_IMPORT[mod] ?? []).join(', ') || 'nothing outside itself'}`);
    } else if (file.startsWith('bench/') && top === 'test') {
      problems.push(`${file}:${line}: bench/ may not import test/ (${spec}); what both use belongs in src/lab/`);
    } else if (file.startsWith('bench/') && path.startsWith('src/cli/')) {
      problems.push(`${file}:${line}: nothing outside cli/ imports cli/ (${spec})`);
    }
  }
}

// The Pi's code: everything its entry points reach, type-only imports aside (erased at build).
const seen = new Set();
const queue = [...PI_ENTRIES];
while (queue.length) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  const mod = folderOf(file);
  if (!PI_FOLDERS.has(mod) && !PI_ENTRIES.includes(file) && !PI_FILES_ELSEWHERE.has(file)) {
    problems.push(`${file}: runs on a Pi (reached from ${PI_ENTRIES.join(', ')}) but lives in ${mod}/; the Pi's code stays in runtime/, engine/, model/`);
  }
  for (const { spec, line, path, isType } of importsOf(file)) {
    if (!path) {
      if (FORBIDDEN_ON_PI.some((p) => spec === p || spec.startsWith(p + '/'))) problems.push(`${file}:${line}: runs on a Pi and may not import ${spec}`);
      continue;
    }
    if (!isType) queue.push(path);
  }
}

if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`module map: ${problems.length} violation(s); see docs/ARCHITECTURE.md`);
  process.exit(1);
}
console.log(`module map: ok (${seen.size} files run on a Pi)`);
