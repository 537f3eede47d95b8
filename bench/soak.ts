// `npm run bench -- soak [--minutes M] [--preset P] [--round-frames N] [--engine onnx|tfjs] [--secret]`
// A long local run: the preset's node processes (farm secret on with --secret) stream frames in
// back-to-back sender rounds for M minutes. After every round each process's resident memory and
// open file descriptors are sampled (from /proc, not from the process's own account), and the
// figures are printed over time. At the end: first-vs-last and the largest value after the
// warm-up, per process, and whether memory and descriptors stayed flat.
//
// Flat means: descriptors end where they were after the warm-up (give or take a connection), and
// memory grew by less than 10 % (or 16 MB) between the first sample after the warm-up and the end.
// V8 and onnxruntime settle their heaps in the first minute: the warm-up is the first minute (or
// the first fifth of a shorter run); the first sample is printed too.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { instances, findPreset, loadModelSpec } from '../src/model/spec.js';
import { DEFAULT_SEED } from '../src/model/weights.js';
import { launchLocalFarm } from '../src/lab/local-launch.js';
import { newSecretHex } from '../src/runtime/auth.js';
import { runSender } from '../src/runtime/sender.js';

interface Sample {
  at: number;
  frames: number;
  ips: number;
  dropped: number;
  /** per process (sender last): [rss MB, open fds] */
  procs: [number, number][];
}

function procFigures(pid: number): [number, number] {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return [kb / 1024, readdirSync(`/proc/${pid}/fd`).length];
  } catch {
    return [NaN, NaN];
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '5' },
      preset: { type: 'string', default: 'alexnet-6' },
      'round-frames': { type: 'string', default: '200' },
      engine: { type: 'string', default: 'onnx' },
      secret: { type: 'boolean', default: false },
    },
  });
  const minutes = Number(values.minutes);
  const roundFrames = Number(values['round-frames']);
  if (!(minutes > 0) || !(roundFrames >= 20)) throw new Error('soak: --minutes must be > 0 and --round-frames >= 20');
  const engine = values.engine === 'tfjs' ? 'tfjs' : 'onnx';
  const p = findPreset(values.preset!);
  const spec = loadModelSpec(p.model);
  const secret = values.secret ? Buffer.from(newSecretHex(), 'hex') : undefined;
  // The launcher needs the secret in a 0600 file for the nodes; the soak without it tests the
  // unauthenticated path, which is what the local demo runs.
  let secretFile: string | undefined;
  if (secret) {
    secretFile = join(mkdtempSync(join(tmpdir(), 'pifarm-soak-')), 'secret');
    writeFileSync(secretFile, secret.toString('hex'), { mode: 0o600 });
  }
  console.log(`soak: ${p.name} (${p.stages.map((s) => `${s.role}x${instances(s)}`).join(' -> ')}), ${engine}, ${minutes} min, rounds of ${roundFrames} frames${secret ? ', farm secret on' : ''}`);
  const farm = await launchLocalFarm({
    model: p.model, stages: p.stages, engine, threads: 1, seed: DEFAULT_SEED,
    ...(secretFile ? { tweak: (c) => void (c.secretFile = secretFile), secret } : {}),
  });
  const pids = [...farm.nodes.map((n) => n.child.pid!), process.pid];
  const names = [...farm.nodes.map((n) => n.name), 'sender'];
  const samples: Sample[] = [];
  const t0 = Date.now();
  let round = 0;
  console.log(`${'min'.padStart(5)} ${'ips'.padStart(6)} ${'drop'.padStart(4)}  ${names.map((n) => n.padStart(14)).join(' ')}   (rss MB/open fds)`);
  try {
    while (Date.now() - t0 < minutes * 60_000) {
      const r = await runSender({
        input: spec.input, first: farm.first, lastShards: farm.lastShards, listen: { host: '127.0.0.1', port: farm.senderPort },
        frames: roundFrames, warmup: Math.min(10, roundFrames / 4), window: 8, seed: round + 1, idBase: round * roundFrames,
        maxMessageBytes: farm.maxMessageBytes, sampleIds: [], log: () => {}, secret,
      });
      round++;
      const s: Sample = { at: Date.now() - t0, frames: r.completed, ips: r.ips, dropped: r.dropped, procs: pids.map(procFigures) };
      samples.push(s);
      console.log(`${(s.at / 60_000).toFixed(1).padStart(5)} ${s.ips.toFixed(1).padStart(6)} ${String(s.dropped).padStart(4)}  ${s.procs.map(([m, f]) => `${m.toFixed(0)}/${f}`.padStart(14)).join(' ')}`);
    }
  } finally {
    await farm.stop();
  }
  if (samples.length < 2) {
    console.log('soak: fewer than two rounds; run longer (--minutes) for a verdict');
    return;
  }
  const warm = Math.min(60_000, (minutes * 60_000) / 5);
  const first = samples.find((x) => x.at >= warm && x !== samples[samples.length - 1]) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  console.log(`\n${round} rounds, ${samples.reduce((a, x) => a + x.frames, 0)} frames, ${samples.reduce((a, x) => a + x.dropped, 0)} dropped; compared from ${(first.at / 60_000).toFixed(1)} min (after the warm-up) to the end`);
  let flat = true;
  names.forEach((n, i) => {
    const [m0, f0] = first.procs[i]!;
    const [m1, f1] = last.procs[i]!;
    const mMax = Math.max(...samples.map((x) => x.procs[i]![0]));
    const fMax = Math.max(...samples.map((x) => x.procs[i]![1]));
    const grew = m1 - m0;
    const ok = grew < Math.max(16, 0.1 * m0) && f1 <= f0 + 2; // a stats or result connection may be open at the sample
    flat &&= ok;
    console.log(`${n.padEnd(14)} rss ${samples[0]!.procs[i]![0].toFixed(0)} at start, ${m0.toFixed(0)} -> ${m1.toFixed(0)} MB (max ${mMax.toFixed(0)}), fds ${f0} -> ${f1} (max ${fMax})  ${ok ? 'flat' : 'GROWS'}`);
  });
  console.log(`verdict: ${flat ? 'memory and open files flat' : 'something grows (see GROWS)'}`);
  if (!flat) process.exitCode = 1;
}
