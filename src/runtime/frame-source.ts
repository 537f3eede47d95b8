// Where the sender's frames come from when they are not random: photos, a video, a camera
// (src/sources/). A source decodes ahead, off the sender's event loop (libvips' threads, an ffmpeg
// process), and hands over frames already in the model's input size (uint8 RGB, HWC). A live
// source makes frames at its own pace: the newest waiting frame wins and the ones before it are
// counted as skipped, so a camera faster than the farm never builds a queue.
export interface SourceFrame {
  bytes: Uint8Array;
  /** what the frame is, for results: a file name, "video.mp4#120" */
  name: string;
}

export interface FrameSource {
  /** what it reads, for messages */
  readonly describe: string;
  readonly live: boolean;
  /** the next frame, if one is ready */
  take(): SourceFrame | undefined;
  /** resolves when a frame is ready or the source has ended */
  wait(): Promise<void>;
  /** no frame will come any more */
  readonly ended: boolean;
  /** why it ended before its end: an unreadable file, a stream that stopped */
  readonly error: string | undefined;
  /** files of a folder that are not images it can read: skipped with a warning, the rest run */
  readonly unreadable?: readonly string[];
  /** frames made and never taken (live sources) */
  readonly skipped: number;
  /** frames the source made per second so far (live sources; a file is read as fast as it is taken) */
  readonly fps?: number;
  close(): Promise<void>;
}
