// --source SPEC: what a user points the farm at.
//   random (default)           random frames, the benchmark source
//   FILE.jpg | FOLDER          photos (sharp); --loop repeats a folder
//   FILE.mp4 (any video)       ffmpeg, every frame
//   rtsp:// http(s):// udp://  a stream through ffmpeg, live
//   /dev/videoN                a V4L2 camera through ffmpeg, live
//   camera[:WIDTHxHEIGHT]      the Raspberry Pi camera: rpicam-vid MJPEG into ffmpeg, live
import { existsSync, statSync } from 'node:fs';
import type { FrameSource } from '../runtime/frame-source.js';
import { FfmpegSource } from './ffmpeg.js';
import { ImageSource, imageFiles } from './images.js';
import { SourceError } from './source-error.js';

const IMAGE = /\.(jpe?g|png|webp|tiff?|gif|avif)$/i;

export interface SourceOptions {
  loop?: boolean;
}

/** The source a spec names, frames in `shape` ([h, w, 3]); undefined for random frames. */
export function openSource(spec: string, shape: [number, number, number], o: SourceOptions = {}): FrameSource | undefined {
  if (spec === 'random') return undefined;
  if (shape[2] !== 3) throw new SourceError(`--source ${spec}: the model takes ${shape[2]} channels; photos and video give 3`);
  const cam = /^camera(?::(\d+)x(\d+))?$/.exec(spec);
  if (cam) {
    const [w, h] = cam[1] ? [cam[1], cam[2]!] : ['640', '480'];
    return new FfmpegSource({ args: ['-f', 'mjpeg', '-i', 'pipe:0'], live: true, describe: 'camera', feeder: { command: 'rpicam-vid', args: ['-t', '0', '-n', '--codec', 'mjpeg', '--width', w, '--height', h, '-o', '-'] } }, shape);
  }
  if (/^(rtsp|rtsps|http|https|udp|tcp|rtmp):\/\//.test(spec)) return new FfmpegSource({ args: spec.startsWith('rtsp') ? ['-rtsp_transport', 'tcp', '-i', spec] : ['-i', spec], live: true, describe: spec }, shape);
  if (/^\/dev\/video\d+$/.test(spec)) {
    if (!existsSync(spec)) throw new SourceError(`--source ${spec}: no such device`);
    return new FfmpegSource({ args: ['-f', 'v4l2', '-i', spec], live: true, describe: spec }, shape);
  }
  if (!existsSync(spec)) throw new SourceError(`--source ${spec}: no such file or folder (or: random, camera, /dev/videoN, rtsp://...)`);
  if (statSync(spec).isDirectory() || IMAGE.test(spec)) return new ImageSource(imageFiles(spec), shape, !!o.loop, spec);
  return new FfmpegSource({ args: ['-i', spec], live: false, describe: spec }, shape);
}

/** A camera, device or network stream: it never ends by itself. */
export function isLiveSpec(spec: string): boolean {
  return /^camera(:|$)/.test(spec) || /^\/dev\/video\d+$/.test(spec) || /^(rtsp|rtsps|http|https|udp|tcp|rtmp):\/\//.test(spec);
}

/** Frames to stream when --frames is not given: a live source 300, files all of them. */
export function defaultFramesFor(spec: string): number {
  return isLiveSpec(spec) ? 300 : 1_000_000;
}
