// A real trained CNN for the import tests: nsfwjs' MobileNetV2 (MIT), as its npm package ships it,
// written out as the model.json and weight shard that tensorflowjs_converter writes.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);
// the package's exports map hides its model files; they are read from its folder
const NSFW = fileURLToPath(new URL('../../../node_modules/nsfwjs/dist/models/mobilenet_v2/', import.meta.url));

/** The package's model.min.js and shard .min.js (UMD wrappers) written out as model.json and its shard. */
export function nsfwMobilenet(dir: string): { file: string; json: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] }; weights: Buffer } {
  const json = require(join(NSFW, 'model.min.js')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const weights = Buffer.from(require(join(NSFW, 'group1-shard1of1.min.js')) as string, 'base64');
  const file = join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(json));
  writeFileSync(join(dir, json.weightsManifest[0]!.paths[0]!), weights);
  return { file, json, weights };
}

/** nsfwjs' class names, in its output order */
export const NSFW_LABELS = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
