// The sender's flags, shared by `pifarm run` and `pifarm up`.
import type { SenderRunOptions } from '../farm/sender.js';
import { numberFlag, UsageError } from './command.js';

export const SENDER_FLAGS = {
  frames: { type: 'string' },
  warmup: { type: 'string' },
  window: { type: 'string' },
  rate: { type: 'string' },
  image: { type: 'string' },
  'frame-seed': { type: 'string' },
  'ready-timeout': { type: 'string' },
} as const;

export const SENDER_HELP = `  --frames N              frames to stream (default 50)
  --warmup N              first frames left out of IPS and latency (default 10%, at least 1)
  --window N              closed loop: frames in flight (default 2 per node process, at most 32)
  --rate FPS              open loop: frames per second instead of a window
  --image FILE            send this 224x224 RGB image (binary PPM or raw) as every frame
  --ready-timeout S       seconds to wait for every node port to answer (default 120)`;

export function senderOptions(v: { frames?: string; warmup?: string; window?: string; rate?: string; image?: string; 'frame-seed'?: string }, log: (m: string) => void): SenderRunOptions {
  const frames = numberFlag(v.frames, 'frames', 50, { min: 1, integer: true });
  const warmup = numberFlag(v.warmup, 'warmup', Math.max(1, Math.round(frames / 10)), { min: 0, integer: true });
  if (warmup >= frames) throw new UsageError(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
  const o: SenderRunOptions = { frames, warmup, log };
  if (v.window) o.window = numberFlag(v.window, 'window', 8, { min: 1, integer: true });
  if (v.rate) o.rate = numberFlag(v.rate, 'rate', 10, { min: 0.001 });
  if (v.image) o.image = v.image;
  if (v['frame-seed']) o.frameSeed = numberFlag(v['frame-seed'], 'frame-seed', 1, { min: 0, integer: true });
  return o;
}
