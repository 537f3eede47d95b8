// Entry point for profiling on a host: `node profile-main.js MODEL [ENGINE] [THREADS]` prints the
// measured DeviceProfile of a built-in model as JSON; `node profile-main.js --imported MODELS_DIR
// NAME [ENGINE] [THREADS]` that of an imported model's cut ranges (its package copied there by
// farm/profile-host.ts). It lives in the bundle a Pi runs (dist/src), so `pifarm plan --profile
// HOST` can run it there over the host's transport.
import { loadImportedModel } from '../model/imported.js';
import { profileLocal } from './profile.js';
import { profileImportedLocal } from './profile-imported.js';

const argv = process.argv.slice(2);
const imported = argv[0] === '--imported';
const [model, engine = 'onnx', threads] = imported ? argv.slice(2) : argv;
if (!model || (imported && !argv[1])) {
  console.error('usage: node profile-main.js MODEL [ENGINE] [THREADS] | --imported MODELS_DIR NAME [ENGINE] [THREADS]');
  process.exit(2);
}
const opts = { engine, ...(threads ? { threads: Number(threads) } : {}) };
const profile = imported ? profileImportedLocal(argv[1]!, loadImportedModel(argv[1]!, model), { ...opts, log: (m) => console.error(m) }) : profileLocal(model, opts);
profile.then(
  (p) => console.log(JSON.stringify(p)),
  (e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);
