// --source SPEC: what a user points the farm at.
//   random (default)           random frames, the benchmark source
//   FILE.jpg | FOLDER          photos (sharp); --loop repeats a folder
//   FILE.mp4 (any video)       ffmpeg, every frame
//   rtsp:// http(s):// udp://  a stream through ffmpeg, live
//   /dev/videoN                a V4L2 camera through ffmpeg, live
//   camera[:WIDTHxHEIGHT]      the Raspberry Pi camera: rpicam-vid MJPEG into ffmpeg, live
import { existsSync, statSync } from 'node:fs';
import type { FrameSource } from '../runtime/frame-source.js';
import { ImageSource, imageFiles } from './images.js';
import { isLiveSpec, openLiveSource, openVideoFile } from './open-video.js';
import { SourceError } from './source-error.js';

export { isLiveSpec } from './open-video.js';

const IMAGE = /\.(jpe?g|png|webp|tiff?|gif|avif)$/i;

export interface SourceOptions {
  loop?: boolean;
}

/** The source a spec names, frames in `shape` ([h, w, 3]); undefined for random frames. */
export function openSource(spec: string, shape: [number, number, number], o: SourceOptions = {}): FrameSource | undefined {
  if (spec === 'random') return undefined;
  if (shape[2] !== 3) throw new SourceError(`--source ${spec}: the model takes ${shape[2]} channels; photos and video give 3`);
  const live = openLiveSource(spec, shape);
  if (live) return live;
  if (!existsSync(spec)) throw new SourceError(`--source ${spec}: no such file or folder (or: random, camera, /dev/videoN, rtsp://...)`);
  if (statSync(spec).isDirectory() || IMAGE.test(spec)) return new ImageSource(imageFiles(spec), shape, !!o.loop, spec);
  return openVideoFile(spec, shape);
}

/** Frames to stream when --frames is not given: a live source 300, files all of them. */
export function defaultFramesFor(spec: string): number {
  return isLiveSpec(spec) ? 300 : 1_000_000;
}
