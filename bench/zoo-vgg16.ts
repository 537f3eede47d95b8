// `npm run bench -- zoo-vgg16 [--models DIR] [--name N]`: writes a VGG16 in the ONNX model zoo's
// shape and names (src/lab/zoo-vgg16.ts: full size, random weights) and imports it as a model
// package, so the imported-model benchmarks (engine, pipeline, farm, farm-scale --model N) have a
// VGG16 to run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { zooVgg16 } from '../src/lab/zoo-vgg16.js';
import { importOnnx } from '../src/engine/import-onnx.js';
import { defaultModelsDir } from '../src/model/imported.js';

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { models: { type: 'string' }, name: { type: 'string' } } });
  const modelsDir = values.models ? resolve(values.models) : defaultModelsDir();
  const name = values.name ?? 'vgg16-zoo';
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-zoo-vgg16-'));
  try {
    const t0 = performance.now();
    const file = join(dir, `${name}.onnx`);
    writeFileSync(file, zooVgg16());
    const t1 = performance.now();
    // the zoo's VGG16 takes Caffe's BGR pixels less the ImageNet mean
    const pkg = await importOnnx(file, { name, modelsDir, preprocess: { scale: 1, mean: [103.94, 116.78, 123.68], std: [1, 1, 1], bgr: true } });
    console.log(`wrote a zoo-shaped VGG16 (${(pkg.params / 1e6).toFixed(1)} M parameters, ${(pkg.macs / 1e9).toFixed(2)} G MACs, random weights) in ${((t1 - t0) / 1000).toFixed(1)} s; imported as ${name} into ${modelsDir} in ${((performance.now() - t1) / 1000).toFixed(1)} s: ${pkg.cuts.length - 2} cut points`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
