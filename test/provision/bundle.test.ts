// The runtime bundle a Pi gets: built from this tree with the real tar, listed back with tar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../src/provision/bundle.js';
import { keepForArch } from '../../src/provision/bundle-files.js';
import { projectRoot } from '../../src/farm/options.js';

test('an arm64 onnx bundle: the runtime, linux/arm64 native binaries only, no control-side packages', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'pifarm-bundle-'));
  const b = await buildBundle(projectRoot(), 'arm64', cache, 'onnx');
  assert.match(b.hash, /^[0-9a-f]{16}-arm64$/);
  const list = spawnSync('tar', ['-tzf', b.file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(list.status, 0, list.stderr);
  const files = list.stdout.split('\n').filter(Boolean);
  assert.equal(files.length, b.files);
  for (const f of ['dist/src/runtime/node-main.js', 'dist/src/runtime/sender-main.js', 'roles/alexnet.yaml', 'package.json', 'node_modules/avsc/package.json', 'node_modules/yaml/package.json']) {
    assert.ok(files.includes(f), `${f} is in the bundle`);
  }
  const native = files.filter((f) => f.includes('onnxruntime-node/bin/'));
  assert.ok(native.some((f) => f.includes('/linux/arm64/')), 'the linux/arm64 onnxruntime binding is there');
  assert.deepEqual(native.filter((f) => !f.includes('/linux/arm64/')), [], 'no other platform');
  for (const pkg of ['node-ssh', 'ssh2', 'listr2', 'ora', '@tensorflow/tfjs', 'typescript', 'eslint']) {
    assert.ok(!files.some((f) => f.startsWith(`node_modules/${pkg}/`)), `${pkg} stays on the control machine`);
  }
  assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.endsWith('.map') || f.endsWith('.d.ts')));
  // the same tree gives the same release: nothing is rebuilt or re-sent
  const again = await buildBundle(projectRoot(), 'arm64', cache, 'onnx');
  assert.equal(again.hash, b.hash);
});

test('native binary folders are kept for the host architecture only', () => {
  assert.equal(keepForArch('node_modules/x/bin/napi-v6/linux/arm64/a.node', 'arm64'), true);
  assert.equal(keepForArch('node_modules/x/bin/napi-v6/linux/x64/a.node', 'arm64'), false);
  assert.equal(keepForArch('node_modules/x/bin/napi-v6/darwin/arm64/a.node', 'arm64'), false);
  assert.equal(keepForArch('node_modules/x/prebuilds/linux-arm/a.node', 'armhf'), true);
  assert.equal(keepForArch('node_modules/x/prebuilds/win32-x64/a.node', 'x64'), false);
  assert.equal(keepForArch('node_modules/x/lib/index.js', 'x64'), true);
});
