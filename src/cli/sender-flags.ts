// The sender's flags, shared by `pifarm run` and `pifarm up`.
import type { SenderRunOptions } from '../farm/sender.js';
import { numberFlag, UsageError } from './command.js';
import { defaultFramesFor, isLiveSpec } from '../sources/open.js';
import type { RunInputFlags } from '../sources/run-inputs.js';
import { SERVE_HELP } from './live-flag.js';

export const SENDER_FLAGS = {
  frames: { type: 'string' },
  warmup: { type: 'string' },
  window: { type: 'string' },
  rate: { type: 'string' },
  image: { type: 'string' },
  'frame-seed': { type: 'string' },
  'ready-timeout': { type: 'string' },
  source: { type: 'string' },
  loop: { type: 'boolean' },
  results: { type: 'string' },
  serve: { type: 'string' },
  deadline: { type: 'string' },
} as const;

export const SOURCE_HELP = `  --source SPEC           where frames come from (default random): a photo or a folder of JPEG,
                          PNG, WebP (resized to cover the model's input, centre cut; --loop
                          repeats the folder), a video file, rtsp:// or http:// stream, a V4L2
                          device (/dev/video0), or camera[:WxH] (the Raspberry Pi camera through
                          rpicam-vid). A live source's newest frame wins; frames the farm had no
                          room for are counted as skipped. Default --frames: every file, or 300
  --loop                  with a folder: start again at its end
  --deadline MS           real time: a frame not back within MS of being sent is given up and
                          counted as past its deadline
  --results FILE.jsonl    one JSON line per completed frame (its file, latency, top 5, hops),
                          written as it completes`;

export const SENDER_HELP = `  --frames N              frames to stream (default 50)
  --warmup N              first frames left out of IPS and latency (default 10%, at least 1)
  --window N              closed loop: frames in flight (default 2 per node process, at most 32)
  --rate FPS              open loop: frames per second instead of a window
  --image FILE            send this 224x224 RGB image (binary PPM or raw) as every frame
  --ready-timeout S       seconds to wait for every node port to answer (default 120)
${SOURCE_HELP}
${SERVE_HELP}`;


export function senderOptions(v: { frames?: string; warmup?: string; window?: string; rate?: string; image?: string; 'frame-seed'?: string; source?: string; loop?: boolean; results?: string; serve?: string; deadline?: string }, log: (m: string) => void): SenderRunOptions {
  const frames = numberFlag(v.frames, 'frames', v.source && v.source !== 'random' ? defaultFramesFor(v.source) : 50, { min: 1, integer: true });
  const warmup = numberFlag(v.warmup, 'warmup', defaultWarmup(frames, v.source), { min: 0, integer: true });
  if (warmup >= frames) throw new UsageError(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
  const o: SenderRunOptions = { frames, warmup, log };
  if (v.window) o.window = numberFlag(v.window, 'window', 8, { min: 1, integer: true });
  if (v.rate) o.rate = numberFlag(v.rate, 'rate', 10, { min: 0.001 });
  if (v.image) o.image = v.image;
  if (v['frame-seed']) o.frameSeed = numberFlag(v['frame-seed'], 'frame-seed', 1, { min: 0, integer: true });
  if (v.image && v.source) throw new UsageError('give --image or --source, not both');
  const inputs = inputFlags(v);
  if (inputs) o.inputs = inputs;
  if (v.serve) o.serve = v.serve;
  if (v.deadline) o.deadlineMs = numberFlag(v.deadline, 'deadline', 1000, { min: 1 });
  return o;
}

/** --source, --loop, --results as a run's inputs (undefined when none is given). */
export function inputFlags(v: { source?: string; loop?: boolean; results?: string }): RunInputFlags | undefined {
  if (v.loop && !v.source) throw new UsageError('--loop repeats a --source folder; give --source');
  if (!v.source && !v.results) return undefined;
  return { ...(v.source ? { source: v.source } : {}), ...(v.loop ? { loop: true } : {}), ...(v.results ? { results: v.results } : {}) };
}

/** First frames left out of IPS and latency: 10% of random frames; 1 of a file source, 10 of a live one. */
export function defaultWarmup(frames: number, source?: string): number {
  if (source && source !== 'random') return Math.min(isLiveSpec(source) ? 10 : 1, frames - 1);
  return Math.max(1, Math.round(frames / 10));
}
