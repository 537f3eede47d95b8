// The sender on a Pi reads a camera or a video with ffmpeg (no sharp: Raspberry Pi OS has Node 18):
// on a virtual Pi as the sender host, a stand-in rpicam-vid on its PATH writes MJPEG as the real
// one does; pifarm starts it, reads it at the farm's rate (the newest frame wins, the rest are
// counted as skipped), stops it at the end (nothing left running), and checks the outputs against
// the whole model on the frames the Pi sent. A video file on the Pi streams every frame; a source
// that is not there (--source over the inventory's) is a clear error naming the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { writeInventory } from '../../src/lab/vpi/inventory.js';
import { runCommand, upCommand } from '../../src/farm/commands.js';
import type { FarmOptions } from '../../src/farm/options.js';

let pis: VirtualPis;
let o: FarmOptions;

before(async () => {
  pis = await startVirtualPis(5);
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-pi-source-'));
  o = { inventoryFile: writeInventory(dir, pis, 'alexnet-5', { sender: 'vpi5' }), stateDir: join(dir, 'state'), logsDir: join(dir, 'logs'), offline: true, json: true };
});
after(() => pis?.teardown());

test('a sender Pi streams its camera (a stand-in rpicam-vid) and a video file through the farm; a missing source names the host', { timeout: 300_000 }, async () => {
  const up = await upCommand(o, { frames: 5, warmup: 1, log: () => {} });
  assert.deepEqual(up.failed, [], up.runError);
  // 60 frames a second of ffmpeg's test pattern as MJPEG on stdout, whatever the arguments
  const cam = await pis.exec('vpi5', `printf '#!/bin/sh\\nexec ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size=640x480:rate=60 -f mjpeg -q:v 5 pipe:1\\n' > /usr/local/bin/rpicam-vid && chmod 755 /usr/local/bin/rpicam-vid`);
  assert.equal(cam.code, 0, cam.stderr);
  const logs: string[] = [];
  const r = await runCommand(o, { frames: 20, warmup: 2, rate: 5, inputs: { source: 'camera' }, log: (m) => logs.push(m) });
  const j = r.report!;
  assert.equal(j.completed, 20, logs.join('\n'));
  assert.equal(j.sender.source?.describe, 'camera');
  // taken at 5 a second from a camera faster than that (60 fps asked; under CI load a virtual Pi's
  // ffmpeg made 13): the ones in between were skipped, not queued
  assert.ok((j.sender.source?.fps ?? 0) > 5, `the camera made ${j.sender.source?.fps} frames/s`);
  assert.ok((j.sender.source?.skipped ?? 0) > 0, `skipped ${j.sender.source?.skipped}`);
  assert.ok(j.check.ok && j.check.compared > 0, `check: ${JSON.stringify(j.check)}`);
  assert.ok(logs.some((l) => /streaming up to 20 frames from camera/.test(l)), logs.join('\n'));
  const left = await pis.exec('vpi5', 'pgrep -a -x ffmpeg; pgrep -a -x rpicam-vid; true');
  assert.equal(left.stdout.trim(), '', `left running on the sender Pi: ${left.stdout}`);

  // a clip made on the Pi, named by the inventory (farm.source): every one of its 48 frames
  const clip = await pis.exec('vpi5', 'ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=24 -t 2 -pix_fmt yuv420p /root/clip.mp4');
  assert.equal(clip.code, 0, clip.stderr);
  appendFileSync(o.inventoryFile, '  source: /root/clip.mp4\n');
  const v = (await runCommand(o, { frames: 48, warmup: 2, log: () => {} })).report!;
  assert.equal(v.sender.source?.describe, '/root/clip.mp4');
  assert.equal(v.completed, 48);
  assert.equal(v.sender.source?.offered, 48);
  assert.ok(v.check.ok);

  await assert.rejects(runCommand(o, { frames: 5, warmup: 0, inputs: { source: '/root/no-such.mp4' }, log: () => {} }), /vpi5: the sender failed \(exit 2\): .*--source \/root\/no-such\.mp4: no such file on the sender's host/);
});
