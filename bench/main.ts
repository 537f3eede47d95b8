// `npm run bench -- <name> [flags]`: benchmarks print their figures and ratios; they are not tests.
// Each bench/<name>.ts exports `run(argv)` (or a single exported function, called with argv).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES: Record<string, string> = {
  engine: 'engine inference speed: onnx engine vs a bare onnxruntime session vs tfjs; --arch arm64|armhf [--cpu C]: every engine build on ARM virtual Pis (qemu time)',
  'engine-tfjs': 'tfjs engine: load time and IPS per model (--stages: per preset stage)',
  pipeline: 'local farm IPS vs the whole model in one process; added latency per hop',
  deploy: 'cold and warm deploy time and bytes on virtual Pis',
  farm: 'a preset or plan on emulated Pis, measured IPS vs predicted',
  'farm-scale': 'the planned farm of N emulated Pis against one emulated Pi (the whole model), interleaved rounds; any model, imported ones too',
  'zoo-vgg16': "writes a VGG16 in the ONNX zoo's shape and names (full size, random weights) and imports it, for the imported-model benchmarks",
  'farm-vpi': 'a preset or plan on emulated virtual Pis (real SSH hosts), per-phase wall times',
  elastic: 'the live musical chair on emulated Pis: a device lost and back mid-stream, IPS over time, recovery time',
  source: 'decode + preprocess frames/s and CPU per frame (JPEG 640x480, 1920x1080, MJPEG pipe); the latency a source adds on the local farm at 30 fps',
  soak: 'memory and open files of a long local run',
  memory: 'peak RSS (VmHWM) of node processes per block vs the planner memory model',
};

async function main(): Promise<number> {
  const [name, ...argv] = process.argv.slice(2);
  const usage = `usage: npm run bench -- <name> [flags]\n\n${Object.entries(BENCHES)
    .map(([n, d]) => `  ${n.padEnd(9)} ${d}`)
    .join('\n')}`;
  if (!name || name === '--help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const file = new URL(`./${name}.js`, import.meta.url);
  if (!BENCHES[name] || !existsSync(fileURLToPath(file))) {
    console.error(`unknown or unavailable benchmark "${name}"\n\n${usage}`);
    return 2;
  }
  const mod = (await import(file.href)) as Record<string, unknown>;
  const fn = (mod.run ?? mod.default ?? Object.values(mod).find((v) => typeof v === 'function')) as ((a: string[]) => Promise<unknown>) | undefined;
  if (!fn) throw new Error(`bench/${name}.ts exports no function`);
  await fn(argv);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
