// Photos as frames: a file or a folder of JPEG, PNG, WebP (what libvips reads), each brought to the
// model's input by sharp: resized to cover it and cut in the centre, three channels, raw bytes.
// Decoding runs on libvips' own threads, two files ahead of the sender, so the event loop only
// hands over finished frames. In a folder, a file that is not an image is skipped with a warning
// (a camera's card often holds a broken or half-written file) and the rest run; one photo that
// cannot be read ends the run, as there is nothing else to send.
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import type { FrameSource, SourceFrame } from '../runtime/frame-source.js';
import { SourceError } from './source-error.js';

const IMAGE = /\.(jpe?g|png|webp|tiff?|gif|avif)$/i;
const AHEAD = 2;

/** One photo in the model's input size: cover, centre crop, RGB, uint8 HWC. */
export async function decodeImage(file: string, [h, w]: [number, number, number]): Promise<Uint8Array> {
  try {
    const { data } = await sharp(file).resize(w, h, { fit: 'cover', position: 'centre' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    throw new SourceError(`${file}: not an image pifarm can read (${(e as Error).message.split('\n')[0]})`);
  }
}

export function imageFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new SourceError(`--source ${path}: no such file or folder`);
  }
  if (!st.isDirectory()) return [path];
  const files = readdirSync(path).filter((f) => IMAGE.test(f)).sort().map((f) => join(path, f));
  if (files.length === 0) throw new SourceError(`--source ${path}: the folder holds no JPEG, PNG or WebP file`);
  return files;
}

interface Slot {
  frame?: SourceFrame;
  done: boolean;
}

export class ImageSource implements FrameSource {
  readonly live = false;
  readonly skipped = 0;
  error: string | undefined;
  readonly unreadable: string[] = [];
  private readonly bad = new Set<string>();
  /** frames being decoded or decoded, in file order (decoded in parallel, handed over in order) */
  private readonly slots: Slot[] = [];
  private next = 0;
  private stopped = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly files: string[],
    private readonly shape: [number, number, number],
    private readonly loop: boolean,
    readonly describe: string,
    private readonly warn: (m: string) => void = (m) => console.error(`pifarm: warning: ${m}`),
  ) {
    this.decodeAhead();
  }

  get ended(): boolean {
    if (this.stopped) return true;
    if (this.error) return !this.slots[0]?.frame;
    return (!this.loop || this.bad.size === this.files.length) && this.next >= this.files.length && this.slots.length === 0;
  }

  take(): SourceFrame | undefined {
    const first = this.slots[0];
    if (!first?.done || !first.frame) return undefined;
    this.slots.shift();
    this.decodeAhead();
    return first.frame;
  }

  wait(): Promise<void> {
    if (this.slots[0]?.done || this.ended) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake();
  }

  private unreadableFile(file: string, slot: Slot, why: string): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    if (this.files.length === 1) this.error ??= why;
    else if (!this.bad.has(file)) {
      this.bad.add(file);
      this.unreadable.push(basename(file));
      this.warn(`${why}; skipped, the folder's other files go on`);
      if (this.bad.size === this.files.length) this.error ??= `${this.describe}: no file in it is an image pifarm can read`;
    }
    this.decodeAhead();
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private decodeAhead(): void {
    while (!this.stopped && !this.error && this.slots.length < AHEAD && (this.loop ? this.bad.size < this.files.length : this.next < this.files.length)) {
      const file = this.files[this.next++ % this.files.length]!;
      if (this.bad.has(file)) continue;
      const slot: Slot = { done: false };
      this.slots.push(slot);
      decodeImage(file, this.shape).then(
        (bytes) => {
          slot.frame = { bytes, name: basename(file) };
          slot.done = true;
          this.wake();
        },
        (e: Error) => this.unreadableFile(file, slot, e.message),
      );
    }
    if (this.ended) this.wake();
  }
}
