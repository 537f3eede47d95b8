// `npm run bench -- source [--frames N] [--rounds R] [--farm-frames N]`: what reading real inputs
// costs the sender. (1) Decode and preprocess to AlexNet's 224x224 input, as fast as the source
// gives frames: JPEG 640x480 and 1920x1080 (sharp, on libvips' threads) and an MJPEG pipe
// (ffmpeg): frames per second and CPU per frame (this process's for sharp, the ffmpeg child's
// for the pipe). (2) The local alexnet-6 farm at 30 frames/s with random frames and with a folder
// of 640x480 JPEGs, interleaved: the latency a source adds (p50/p95 of frame latency, source
// minus random) and whether the sender kept 30 frames/s while the farm ran.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ImageSource } from '../src/sources/images.js';
import { FfmpegSource } from '../src/sources/ffmpeg.js';
import type { FrameSource } from '../src/runtime/frame-source.js';
import { presetStages, runDemo } from '../src/lab/local-demo.js';

const INPUT: [number, number, number] = [224, 224, 3];
const PHOTO = '/usr/lib/python3/dist-packages/skimage/data/chelsea.png';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `count` JPEGs of w x h: scikit-image's chelsea.png (a real photo) where installed, each a little shifted so none repeats. */
async function jpegFolder(dir: string, w: number, h: number, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = existsSync(PHOTO) ? sharp(PHOTO).resize(w + i, h + i, { fit: 'cover' }).extract({ left: i, top: i, width: w, height: h }) : sharp({ create: { width: w, height: h, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
    const file = join(dir, `${w}x${h}-${String(i).padStart(3, '0')}.jpg`);
    await base.jpeg({ quality: 85 }).toFile(file);
    files.push(file);
  }
  return files;
}

/** CPU time of this process's children that ended (ms): /proc/self/stat cutime + cstime. */
function childCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // fields after "(comm) ": state is 3, cutime 16, cstime 17 (1-based over the whole line)
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
}

interface Drained {
  fps: number;
  cpuMsPerFrame: number;
}

/** Takes `frames` frames as fast as the source gives them; CPU from this process or its children. */
async function drain(open: () => FrameSource, frames: number, cpu: 'self' | 'children'): Promise<Drained> {
  const c0 = process.cpuUsage();
  const k0 = childCpuMs();
  const t0 = performance.now();
  const source = open();
  let n = 0;
  while (n < frames) {
    if (source.take()) n++;
    else if (source.ended) break;
    else await source.wait();
  }
  const wall = performance.now() - t0;
  await source.close();
  if (source.error) throw new Error(`${source.describe}: ${source.error}`);
  // the ffmpeg child is reaped once closed: its time shows in cutime after that
  await new Promise((r) => setTimeout(r, 200));
  const self = process.cpuUsage(c0);
  const ms = cpu === 'self' ? (self.user + self.system) / 1000 : childCpuMs() - k0;
  return { fps: (n * 1000) / wall, cpuMsPerFrame: ms / n };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { frames: { type: 'string', default: '240' }, rounds: { type: 'string', default: '3' }, 'farm-frames': { type: 'string', default: '300' } } });
  const frames = Number(values.frames);
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-bench-source-'));
  sharp.cache(false);
  try {
    console.log(`source bench, ${availableParallelism()} cores, ${frames} frames per measurement, ${rounds} interleaved rounds (medians); input ${existsSync(PHOTO) ? 'chelsea.png (scikit-image) as JPEG' : 'gaussian noise as JPEG (python3-skimage not installed)'}, to ${INPUT[1]}x${INPUT[0]}`);
    const vga = await jpegFolder(join(dir, 'vga'), 640, 480, 24);
    const hd = await jpegFolder(join(dir, 'hd'), 1920, 1080, 24);
    const mjpeg = join(dir, 'clip.mjpeg');
    const ff = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x480:rate=30', '-frames:v', String(frames), '-f', 'mjpeg', '-q:v', '5', mjpeg]);
    if (ff.status !== 0) throw new Error(`ffmpeg could not make the MJPEG clip: ${ff.stderr}`);
    const cases: [string, () => FrameSource, 'self' | 'children'][] = [
      ['JPEG 640x480 (sharp)', () => new ImageSource(vga, INPUT, true, 'vga'), 'self'],
      ['JPEG 1920x1080 (sharp)', () => new ImageSource(hd, INPUT, true, 'hd'), 'self'],
      ['MJPEG 640x480 pipe (ffmpeg)', () => new FfmpegSource({ args: ['-f', 'mjpeg', '-i', 'pipe:0'], live: false, describe: 'mjpeg pipe', feeder: { command: 'cat', args: [mjpeg] } }, INPUT), 'children'],
    ];
    const got = new Map<string, Drained[]>(cases.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) for (const [name, open, cpu] of cases) got.get(name)!.push(await drain(open, frames, cpu));
    console.log('decode + preprocess, as fast as the source gives frames:');
    for (const [name, , cpu] of cases) {
      const d = got.get(name)!;
      console.log(`  ${name.padEnd(28)} ${median(d.map((x) => x.fps)).toFixed(1).padStart(7)} frames/s  CPU ${median(d.map((x) => x.cpuMsPerFrame)).toFixed(2)} ms/frame (${cpu === 'self' ? 'this process, libvips threads included' : 'the ffmpeg process'})  rounds ${d.map((x) => x.fps.toFixed(0)).join(' ')}`);
    }
    await farmWithSource(join(dir, 'vga'), Number(values['farm-frames']), rounds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The local alexnet-6 farm at 30 frames/s: random frames against the 640x480 JPEGs, interleaved. */
async function farmWithSource(folder: string, frames: number, rounds: number): Promise<void> {
  const { model, stages } = presetStages('alexnet-6');
  const runs: Record<'random' | 'jpeg', { p50: number; p95: number; ips: number }[]> = { random: [], jpeg: [] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['random', 'jpeg'] as const) {
      const res = await runDemo({ model, name: 'alexnet-6', stages, engine: 'onnx', frames, warmup: 10, rate: 30, log: () => {}, ...(kind === 'jpeg' ? { inputs: { source: folder, loop: true } } : {}) });
      if (!res.check.ok || res.completed !== frames) throw new Error(`alexnet-6 with ${kind} frames: ${res.completed}/${frames} completed, check ${res.check.ok ? 'ok' : 'failed'}`);
      runs[kind].push({ p50: res.latencyMs.p50, p95: res.latencyMs.p95, ips: res.ips });
    }
  }
  const m = (k: 'random' | 'jpeg', f: 'p50' | 'p95' | 'ips') => median(runs[k].map((x) => x[f]));
  console.log(`local alexnet-6 farm at 30 frames/s, ${frames} frames per run (${rounds} rounds each, interleaved):`);
  for (const k of ['random', 'jpeg'] as const) console.log(`  ${(k === 'random' ? 'random frames' : 'JPEG 640x480 folder').padEnd(20)} IPS ${m(k, 'ips').toFixed(1)}  latency p50 ${m(k, 'p50').toFixed(1)} ms  p95 ${m(k, 'p95').toFixed(1)} ms`);
  console.log(`  added by the source: p50 ${(m('jpeg', 'p50') - m('random', 'p50')).toFixed(1)} ms, p95 ${(m('jpeg', 'p95') - m('random', 'p95')).toFixed(1)} ms; the sender kept 30 frames/s with the source: ${m('jpeg', 'ips') >= 30 * 0.97 ? 'yes' : 'no'} (${m('jpeg', 'ips').toFixed(1)} IPS)`);
}
