// Frames from real inputs through a local farm: a folder of real photos (scikit-image's and
// darknet's sample images, Debian packages), a video through ffmpeg, the Raspberry Pi camera (a
// stand-in rpicam-vid that writes MJPEG as the real one does), and sources that fail: each ends
// the run with its figures so far and a message naming the source, never a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const PHOTOS = ['/usr/lib/python3/dist-packages/skimage/data/chelsea.png', '/usr/lib/python3/dist-packages/skimage/data/coffee.png', '/usr/lib/python3/dist-packages/skimage/data/astronaut.png', '/usr/share/darknet/data/dog.jpg', '/usr/share/darknet/data/horses.jpg', '/usr/share/darknet/data/eagle.jpg', '/usr/share/darknet/data/giraffe.jpg', '/usr/share/darknet/data/person.jpg'];
const pifarm = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });

function photoFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-photos-'));
  for (const p of PHOTOS) copyFileSync(p, join(dir, basename(p)));
  return dir;
}

test('a folder of real photos: every frame completes, each result line names its file with its top 5, outputs equal the whole model', () => {
  const dir = photoFolder();
  const results = join(dir, 'results.jsonl');
  const r = pifarm(['demo', '--preset', 'alexnet-5', '--source', dir, '--results', results, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { completed: number; frames: number; check: { ok: boolean; compared: number }; sender: { source: { offered: number } } };
  assert.deepEqual([j.frames, j.completed, j.sender.source.offered], [8, 8, 8]);
  assert.ok(j.check.ok && j.check.compared === 8, 'every photo is checked against the whole model');
  const lines = readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { source: string; top: { class: number; p: number }[]; hops: string[] });
  assert.deepEqual(lines.map((l) => l.source).sort(), PHOTOS.map((p) => basename(p)).sort());
  for (const l of lines) {
    assert.equal(l.top.length, 5);
    assert.ok(l.top.every((c, i) => i === 0 || c.p <= l.top[i - 1]!.p), 'top 5 in order');
    assert.deepEqual(l.hops.map((h) => h.split('@')[0]).sort(), ['block1.0', 'fc1.0', 'fc1.0.s1', 'fc2.0'], 'block1, both fc1 shards, fc2');
  }
});

test('a video through ffmpeg: every frame of the clip is sent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-video-'));
  const clip = join(dir, 'clip.mp4');
  assert.equal(spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '1.5', clip]).status, 0);
  const r = pifarm(['demo', '--preset', 'alexnet-5', '--source', clip, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { completed: number; check: { ok: boolean }; sender: { source: { offered: number } } };
  assert.deepEqual([j.sender.source.offered, j.completed], [15, 15]);
  assert.ok(j.check.ok);
});

/** a stand-in rpicam-vid on PATH: MJPEG from ffmpeg's test pattern at `fps`, for `seconds` (0: until stopped) */
function fakeCamera(fps: number, seconds: number): string {
  const bin = mkdtempSync(join(tmpdir(), 'pifarm-cam-'));
  const script = join(bin, 'rpicam-vid');
  writeFileSync(script, `#!/bin/sh\nexec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size=640x480:rate=${fps} ${seconds ? `-t ${seconds}` : ''} -f mjpeg -q:v 5 pipe:1\n`);
  chmodSync(script, 0o755);
  return bin;
}

test('the Pi camera: live frames, the newest wins (skipped ones counted); a camera that stops ends the run with its figures', () => {
  // 10 frames a second taken from a 60 fps camera: the frames in between are skipped, not queued
  const live = pifarm(['demo', '--preset', 'alexnet-5', '--source', 'camera', '--frames', '20', '--rate', '10', '--json'], { PATH: `${fakeCamera(60, 0)}:${process.env.PATH}` });
  assert.equal(live.status, 0, live.stderr);
  const j = JSON.parse(live.stdout) as { completed: number; dropped: number; sender: { source: { describe: string; offered: number; skipped: number; fps: number } }; check: { ok: boolean } };
  assert.equal(j.completed, 20);
  // the counts add up: every frame the camera made was taken (offered) or skipped; every one taken completed or was lost
  assert.equal(j.sender.source.offered, j.completed + j.dropped);
  assert.equal(j.sender.source.describe, 'camera');
  assert.ok(j.sender.source.skipped > 40, `skipped ${j.sender.source.skipped} of a 60 fps camera in 2 s at 10 fps`);
  assert.ok(j.sender.source.fps > 40 && j.sender.source.fps < 80, `the camera's rate as measured: ${j.sender.source.fps}`);
  assert.ok(j.check.ok);

  const stops = pifarm(['demo', '--preset', 'alexnet-5', '--source', 'camera', '--frames', '1000'], { PATH: `${fakeCamera(10, 1)}:${process.env.PATH}` });
  assert.equal(stops.status, 1);
  assert.match(stops.stdout, /source: camera \(\d+\.\d frames\/s\): \d+ frame\(s\) offered.*; it stopped: camera: the stream stopped after \d+ frames/);
});

test('sources that fail say which and why: a missing folder at once, a corrupt JPEG in a folder skipped with a warning, one that is the whole source with the figures so far', () => {
  const missing = pifarm(['demo', '--source', '/nonexistent/photos']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^pifarm: --source \/nonexistent\/photos: no such file or folder/m);
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-bad-photo-'));
  mkdirSync(join(dir, 'in'));
  copyFileSync(PHOTOS[0]!, join(dir, 'in', 'a.png'));
  writeFileSync(join(dir, 'in', 'b.jpg'), 'not a JPEG at all');
  copyFileSync(PHOTOS[3]!, join(dir, 'in', 'c.jpg'));
  const folder = pifarm(['demo', '--preset', 'alexnet-5', '--source', join(dir, 'in')]);
  assert.equal(folder.status, 0, folder.stderr);
  assert.match(folder.stderr, /^pifarm: warning: .*b\.jpg: not an image pifarm can read .*; skipped, the folder's other files go on/m);
  assert.match(folder.stdout, /source: .*in: 2 frame\(s\) offered; 1 file\(s\) not images, skipped: b\.jpg/);
  assert.match(folder.stdout, /completed 2, dropped 0/);
  const one = pifarm(['demo', '--preset', 'alexnet-5', '--source', join(dir, 'in', 'b.jpg')]);
  assert.equal(one.status, 1);
  assert.match(one.stdout, /source: .*b\.jpg: 0 frame\(s\) offered; it stopped: .*b\.jpg: not an image pifarm can read/);
});

test('a stream that refuses and a host without ffmpeg: each a clear message, never a hang', () => {
  // port 9 on loopback: nothing listens, the connection is refused at once
  const refused = pifarm(['demo', '--preset', 'alexnet-5', '--source', 'http://127.0.0.1:9/live.mjpeg', '--frames', '10']);
  assert.equal(refused.status, 1);
  assert.match(refused.stdout, /source: http:\/\/127\.0\.0\.1:9\/live\.mjpeg.*it stopped: .*(refused|Connection)/i);
  const empty = mkdtempSync(join(tmpdir(), 'pifarm-empty-path-'));
  writeFileSync(join(empty, 'clip.mp4'), 'a video ffmpeg would read');
  const noFfmpeg = pifarm(['demo', '--preset', 'alexnet-5', '--source', join(empty, 'clip.mp4'), '--frames', '10'], { PATH: empty });
  assert.equal(noFfmpeg.status, 1);
  assert.match(noFfmpeg.stdout, /it stopped: ffmpeg: spawn ffmpeg ENOENT \(install ffmpeg on the sender's host: apt-get install ffmpeg\)/);
});
