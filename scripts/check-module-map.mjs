#!/usr/bin/env node
// Enforces the module map of docs/ARCHITECTURE.md on the sources:
// - code that runs on a Pi (runtime/, engine/, model/) imports only from runtime/, engine/, model/;
//   never ssh, never the control side (it must run on Node 18 with the bundle alone);
// - cli/ may import anything, nothing imports cli/;
// - only farm/ (and cli/) import farm/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = 'src';
const PI_SIDE = new Set(['runtime', 'engine', 'model']);
const FORBIDDEN_PACKAGES_ON_PI = ['node-ssh', 'ssh2', 'listr2', 'ora'];

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const problems = [];
for (const file of walk(SRC)) {
  const mod = relative(SRC, file).split('/')[0];
  const text = readFileSync(file, 'utf8');
  const re = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  let m;
  while ((m = re.exec(text))) {
    const spec = m[1] ?? m[2];
    const line = text.slice(0, m.index).split('\n').length;
    if (spec.startsWith('.')) {
      const target = relative(SRC, resolve(dirname(file), spec)).split('/')[0];
      if (PI_SIDE.has(mod) && !PI_SIDE.has(target)) problems.push(`${file}:${line}: ${mod}/ runs on a Pi and may not import ${target}/ (${spec})`);
      if (target === 'cli' && mod !== 'cli') problems.push(`${file}:${line}: nothing outside cli/ imports cli/ (${spec})`);
      if (target === 'farm' && mod !== 'farm' && mod !== 'cli') problems.push(`${file}:${line}: only farm/ and cli/ import farm/ (${spec})`);
    } else if (PI_SIDE.has(mod) && FORBIDDEN_PACKAGES_ON_PI.some((p) => spec === p || spec.startsWith(p + '/'))) {
      problems.push(`${file}:${line}: ${mod}/ runs on a Pi and may not import ${spec}`);
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`module map: ${problems.length} violation(s); see docs/ARCHITECTURE.md`);
  process.exit(1);
}
console.log('module map: ok');
