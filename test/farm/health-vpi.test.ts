// A Pi's health in `pifarm status`, on a virtual Pi whose firmware reports under-voltage and
// throttling (a stand-in vcgencmd printing what a Pi with a weak power supply prints).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { pifarm } from './helpers.js';
import { writeInventory } from '../../src/lab/vpi/inventory.js';
import type { HostStatus } from '../../src/farm/status.js';

let pis: VirtualPis;
let dir: string;

before(async () => {
  pis = await startVirtualPis(1);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-health-'));
});
after(async () => {
  await pis?.teardown();
});

test('status shows under-voltage and throttling now and since boot, in words and in JSON', async () => {
  const fake = await pis.exec('vpi1', `printf '#!/bin/sh\\n[ "$1" = get_throttled ] && echo throttled=0x50005\\n' > /usr/local/bin/vcgencmd && chmod 755 /usr/local/bin/vcgencmd`);
  assert.equal(fake.code, 0, fake.stderr);
  const topology = join(dir, 'whole.yaml');
  writeFileSync(topology, 'model: alexnet\nname: whole\nstages:\n  - { role: all, layers: conv1..fc3 }\n');
  const inventory = writeInventory(dir, pis, topology, { model: 'alexnet' });
  const env = { PIFARM_STATE_DIR: join(dir, 'state') };
  const text = await pifarm(['status', '-i', inventory], dir, env);
  assert.match(text.stdout, /^vpi1: under-voltage now: the power supply is too weak/m, text.stdout + text.stderr);
  assert.match(text.stdout, /^vpi1: throttled now \(by the under-voltage\)/m);
  assert.match(text.stdout, /^host +temp +cpu MHz +load +mem free +disk free +clock +up +throttled$/m);
  assert.match(text.stdout, /^vpi1 .* under-voltage, throttled$/m);
  const json = await pifarm(['status', '-i', inventory, '--json'], dir, env);
  const h = (JSON.parse(json.stdout) as { status: HostStatus[] }).status[0]!;
  assert.equal(h.health!.throttling!.raw, '0x50005');
  assert.deepEqual([h.health!.throttling!.underVoltageNow, h.health!.throttling!.underVoltageSinceBoot, h.health!.throttling!.throttledNow], [true, true, true]);
  assert.ok(h.health!.memAvailableMb! > 0 && h.health!.diskFreeMb! > 0 && h.health!.uptimeS! > 0, JSON.stringify(h.health));
  assert.ok(h.health!.load!.length === 3);
  // the virtual Pi has no time sync running: named, since apt would refuse its package lists
  assert.equal(h.health!.clockSynced, false);
  assert.ok(h.health!.warnings.some((w) => /clock not synchronised/.test(w)));
});
