// Video as frames through ffmpeg (a Debian package on the sender's host): any container or codec
// it reads, RTSP/HTTP streams, a V4L2 device, or the Raspberry Pi camera (rpicam-vid's MJPEG on
// ffmpeg's stdin). ffmpeg scales to cover the model's input and crops the centre, and writes raw
// RGB frames to a pipe. A file is read as fast as the farm takes it (the pipe's back-pressure
// holds ffmpeg); a stream, device or camera is live: only the newest frame is kept.
import { spawn, type ChildProcess } from 'node:child_process';
import type { FrameSource, SourceFrame } from '../runtime/frame-source.js';

/** a live source that sends nothing for this long has stopped */
const STALL_MS = 10_000;
const QUEUE = 4;

export interface FfmpegInput {
  /** ffmpeg's input arguments, e.g. ["-i", "clip.mp4"], ["-f", "v4l2", "-i", "/dev/video0"] */
  args: string[];
  live: boolean;
  describe: string;
  /** a process whose stdout is ffmpeg's stdin (the camera) */
  feeder?: { command: string; args: string[] };
}

export class FfmpegSource implements FrameSource {
  readonly live: boolean;
  readonly describe: string;
  skipped = 0;
  error: string | undefined;
  private done = false;
  private readonly frames: SourceFrame[] = [];
  private readonly frameBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private count = 0;
  private waiters: (() => void)[] = [];
  private readonly ff: ChildProcess;
  private readonly feeder: ChildProcess | undefined;
  private stderr = '';
  private lastFrameAt = Date.now();
  private firstFrameAt = 0;
  private readonly stall: NodeJS.Timeout;

  constructor(input: FfmpegInput, [h, w]: [number, number, number]) {
    this.live = input.live;
    this.describe = input.describe;
    this.frameBytes = h * w * 3;
    if (input.feeder) {
      this.feeder = spawn(input.feeder.command, input.feeder.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.feeder.on('error', (e) => this.fail(`${input.feeder!.command}: ${e.message}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not installed: the Raspberry Pi camera needs rpicam-apps, or libcamera-apps on older images)' : ''}`));
      this.feeder.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    }
    const vf = `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h}`;
    this.ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...input.args, '-an', '-vf', vf, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: [this.feeder ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (this.feeder) {
      this.feeder.stdout!.pipe(this.ff.stdin!);
      // when the run ends ffmpeg is stopped while the camera may still write: a broken pipe then is expected
      this.ff.stdin!.on('error', () => {});
      this.feeder.stdout!.on('error', () => {});
    }
    this.ff.on('error', (e) => this.fail(`ffmpeg: ${e.message}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (install ffmpeg on the sender\'s host: apt-get install ffmpeg)' : ''}`));
    this.ff.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    this.ff.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.ff.on('close', (code) => {
      if (code !== 0 && !this.done && this.count === 0) this.fail(`${this.describe}: ffmpeg could not read it (exit ${code}): ${this.stderr.trim().split('\n').slice(-2).join(' | ') || 'no message'}`);
      // a live source does not end by itself: its end is a stream or camera that stopped
      else if (!this.done && this.live) this.fail(`${this.describe}: the stream stopped after ${this.count} frames${code ? ` (ffmpeg exit ${code})` : ''}`);
      this.end();
    });
    this.stall = setInterval(() => {
      if (this.live && !this.done && Date.now() - this.lastFrameAt > STALL_MS) this.fail(`${this.describe}: no frame for ${STALL_MS / 1000} s; the stream or camera stopped`);
    }, 1000);
    this.stall.unref();
  }

  get ended(): boolean {
    return this.done && this.frames.length === 0;
  }

  get fps(): number | undefined {
    return this.live && this.count > 1 ? ((this.count - 1) * 1000) / (this.lastFrameAt - this.firstFrameAt || 1) : undefined;
  }

  take(): SourceFrame | undefined {
    const f = this.frames.shift();
    if (!this.live && this.frames.length < QUEUE) this.ff.stdout?.resume();
    return f;
  }

  wait(): Promise<void> {
    if (this.frames.length || this.ended) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  async close(): Promise<void> {
    this.end();
  }

  private onData(d: Buffer): void {
    if (this.done) return; // stopped: what ffmpeg still writes is dropped
    this.pending.push(d);
    this.pendingBytes += d.length;
    while (this.pendingBytes >= this.frameBytes) {
      const all = Buffer.concat(this.pending);
      const frame = new Uint8Array(all.buffer, all.byteOffset, this.frameBytes).slice();
      const rest = all.subarray(this.frameBytes);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
      this.lastFrameAt = Date.now();
      if (this.count === 0) this.firstFrameAt = this.lastFrameAt;
      // live: the newest frame wins; the one it replaces was never sent
      if (this.live && this.frames.length) {
        this.frames.shift();
        this.skipped++;
      }
      this.frames.push({ bytes: frame, name: `${this.describe}#${this.count++}` });
    }
    if (!this.live && this.frames.length >= QUEUE) this.ff.stdout?.pause();
    this.wake();
  }

  private fail(msg: string): void {
    this.error ??= msg;
    this.end();
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.stall);
    // read and drop what is still written: ffmpeg and the camera finish a write before acting on
    // SIGTERM, and a pipe nobody reads would hold them (and this process) for ever
    this.feeder?.stdout!.unpipe();
    for (const out of [this.ff.stdout, this.feeder?.stdout]) out?.resume();
    this.ff.kill('SIGTERM');
    this.feeder?.kill('SIGTERM');
    const hard = setTimeout(() => [this.ff, this.feeder].forEach((p) => p && p.exitCode === null && p.signalCode === null && p.kill('SIGKILL')), 2000);
    hard.unref();
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
