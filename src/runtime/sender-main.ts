#!/usr/bin/env node
// Entry of the initial sender on a Pi: node dist/src/runtime/sender-main.js --config SENDER.json
// Streams the frames, then prints the report as JSON on stdout (sampled outputs as number arrays,
// so the control side can run the output check). Exit code 0 when every frame completed, 1 when
// some were dropped, 2 for a bad config.
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModelSpec } from '../model/spec.js';
import { readSecretFile } from './auth.js';
import { validateNodeConfig, type Balance, type Endpoint, type NextStage } from './config.js';
import { runSender } from './sender.js';
import type { FrameSource } from './frame-source.js';
// the one part of sources/ a Pi runs: ffmpeg's (no sharp), see sources/open-video.ts
import { openFfmpegSource } from '../sources/open-video.js';

/** What the control side writes for the sender (the farm engineer's wiring fills it). */
export interface SenderConfig {
  model: string;
  first: NextStage;
  lastShards: number;
  listen: Endpoint;
  frames: number;
  warmup: number;
  window?: number;
  rate?: number;
  seed: number;
  image?: string;
  balance: Balance;
  sampleIds?: number[];
  frameTimeoutMs?: number;
  maxMessageBytes: number;
  mergeTimeoutMs: number;
  mergeCapacity: number;
  /** path of the farm secret (mode 0600), as the nodes' secretFile */
  secretFile?: string;
  /** --source on this host: the camera, a stream, a device or a video file, through ffmpeg */
  source?: string;
  deadlineMs?: number;
}

export function validateSenderConfig(raw: unknown, file: string): SenderConfig {
  const c = raw as Record<string, unknown>;
  const fail = (f: string, m: string): never => {
    throw new Error(`${file}: ${f}: ${m}`);
  };
  if (!c || typeof c !== 'object') fail('(root)', 'expected a JSON object');
  if (typeof c.model !== 'string') fail('model', 'expected a model name');
  // The stage fields are the same as a node's `next`: reuse the node validator on a stub.
  validateNodeConfig(
    { model: c.model, role: 'sender', stageIndex: 0, layers: [], replica: 0, shard: { index: 0, count: 1 }, listen: c.listen, mergeFrom: 1, next: c.first, sender: c.listen, engine: 'onnx', seed: c.seed, balance: c.balance, maxMessageBytes: c.maxMessageBytes, mergeTimeoutMs: c.mergeTimeoutMs, mergeCapacity: c.mergeCapacity },
    file,
  );
  for (const k of ['frames', 'warmup', 'lastShards'] as const) if (!Number.isInteger(c[k]) || (c[k] as number) < (k === 'warmup' ? 0 : 1)) fail(k, 'expected a positive integer');
  if (c.window !== undefined && !(Number.isInteger(c.window) && (c.window as number) >= 1)) fail('window', 'expected an integer >= 1');
  if (c.rate !== undefined && !(typeof c.rate === 'number' && c.rate > 0)) fail('rate', 'expected frames per second > 0');
  if (c.source !== undefined && (typeof c.source !== 'string' || c.source === '')) fail('source', 'expected a source spec (camera, a video file, rtsp://..., /dev/videoN)');
  if (c.deadlineMs !== undefined && !(typeof c.deadlineMs === 'number' && c.deadlineMs > 0)) fail('deadlineMs', 'expected milliseconds > 0');
  if (c.sampleIds !== undefined && !(Array.isArray(c.sampleIds) && c.sampleIds.every((n) => Number.isInteger(n)))) fail('sampleIds', 'expected a list of frame ids');
  return c as unknown as SenderConfig;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  if (!values.config) {
    console.error('pifarm-sender: missing --config SENDER.json');
    return 2;
  }
  let cfg: SenderConfig;
  let input: [number, number, number];
  let secret: Buffer | undefined;
  let source: FrameSource | undefined;
  try {
    cfg = validateSenderConfig(JSON.parse(readFileSync(values.config, 'utf8')), values.config);
    input = loadModelSpec(cfg.model).input;
    secret = cfg.secretFile ? readSecretFile(cfg.secretFile) : undefined;
    source = cfg.source ? openFfmpegSource(cfg.source, input) : undefined;
  } catch (e) {
    console.error(`pifarm-sender: ${(e as Error).message}`);
    return 2;
  }
  const { source: _spec, ...rest0 } = cfg;
  let r;
  try {
    r = await runSender({ ...rest0, input, secret, ...(source ? { source } : {}), log: (m) => console.error(`pifarm-sender: ${m}`) });
  } finally {
    // the camera and ffmpeg stop with the run: nothing is left running on the Pi
    await source?.close();
  }
  const { samples, sampleInputs, ...rest } = r;
  console.log(JSON.stringify({ ...rest, samples: [...samples].map(([id, v]) => ({ id, output: Array.from(v) })), ...(sampleInputs ? { sampleInputs: [...sampleInputs].map(([id, b]) => ({ id, bytes: Buffer.from(b).toString('base64') })) } : {}) }));
  return r.completed === r.frames && !r.source?.error ? 0 : 1;
}

// Only when run as a program, so the control side can import the types and validator.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(`pifarm-sender: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
