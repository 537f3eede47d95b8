// Entry point for profiling on a host: `node profile-main.js MODEL [ENGINE] [THREADS]` prints the
// measured DeviceProfile as JSON. It lives in the bundle a Pi runs (dist/src), so
// `pifarm plan --profile HOST` can run it there over the host's transport.
import { profileLocal } from './profile.js';

const [model, engine = 'onnx', threads] = process.argv.slice(2);
if (!model) {
  console.error('usage: node profile-main.js MODEL [ENGINE] [THREADS]');
  process.exit(2);
}
profileLocal(model, { engine, ...(threads ? { threads: Number(threads) } : {}) }).then(
  (p) => console.log(JSON.stringify(p)),
  (e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  },
);
