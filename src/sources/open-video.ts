// The sources ffmpeg reads: the Raspberry Pi camera (rpicam-vid's MJPEG into ffmpeg), network
// streams, V4L2 devices and video files. Apart from open.ts (photos need sharp) because this part
// also runs on a sender Pi: it needs ffmpeg and Node's own modules only, and Raspberry Pi OS
// Bookworm's Node 18 (sharp 0.35 wants Node 20).
import { existsSync, statSync } from 'node:fs';
import type { FrameSource } from '../runtime/frame-source.js';
import { FfmpegSource } from './ffmpeg.js';
import { SourceError } from './source-error.js';

const STREAM = /^(rtsp|rtsps|http|https|udp|tcp|rtmp):\/\//;

/** A camera, device or network stream: it never ends by itself. */
export function isLiveSpec(spec: string): boolean {
  return /^camera(:|$)/.test(spec) || /^\/dev\/video\d+$/.test(spec) || STREAM.test(spec);
}

/** The camera, a stream or a device: ffmpeg's source for it, or undefined when `spec` is not one. */
export function openLiveSource(spec: string, shape: [number, number, number]): FrameSource | undefined {
  const cam = /^camera(?::(\d+)x(\d+))?$/.exec(spec);
  if (cam) {
    const [w, h] = cam[1] ? [cam[1], cam[2]!] : ['640', '480'];
    return new FfmpegSource({ args: ['-f', 'mjpeg', '-i', 'pipe:0'], live: true, describe: 'camera', feeder: { command: 'rpicam-vid', args: ['-t', '0', '-n', '--codec', 'mjpeg', '--width', w, '--height', h, '-o', '-'] } }, shape);
  }
  if (STREAM.test(spec)) return new FfmpegSource({ args: spec.startsWith('rtsp') ? ['-rtsp_transport', 'tcp', '-i', spec] : ['-i', spec], live: true, describe: spec }, shape);
  if (/^\/dev\/video\d+$/.test(spec)) {
    if (!existsSync(spec)) throw new SourceError(`--source ${spec}: no such device`);
    return new FfmpegSource({ args: ['-f', 'v4l2', '-i', spec], live: true, describe: spec }, shape);
  }
  return undefined;
}

/** A video file (any container or codec ffmpeg reads), every frame. */
export function openVideoFile(spec: string, shape: [number, number, number]): FrameSource {
  return new FfmpegSource({ args: ['-i', spec], live: false, describe: spec }, shape);
}

/**
 * What a sender on a Pi can open with ffmpeg alone: the camera, a stream, a device, a video file
 * or one photo (ffmpeg decodes it as a one-frame video); a folder of photos is sharp's (Node 20).
 */
export function openFfmpegSource(spec: string, shape: [number, number, number]): FrameSource {
  if (shape[2] !== 3) throw new SourceError(`--source ${spec}: the model takes ${shape[2]} channels; video gives 3`);
  const live = openLiveSource(spec, shape);
  if (live) return live;
  if (!existsSync(spec)) throw new SourceError(`--source ${spec}: no such file on the sender's host (or: camera, /dev/videoN, rtsp://...)`);
  if (statSync(spec).isDirectory()) throw new SourceError(`--source ${spec}: a folder of photos is decoded with sharp, which needs Node 20; the sender on a Pi reads video, streams, cameras and single files with ffmpeg: send the folder from the control machine (farm.sender: local) or make a video of it`);
  return openVideoFile(spec, shape);
}
