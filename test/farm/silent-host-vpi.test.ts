// A Pi that loses its network mid-run sends no FIN: its first-stage replica is called down within
// about 2 s of its last answer (nodes compute in a worker thread, so a probe needs no allowance
// for a busy node), its frames are re-sent to the other replica, and every frame completes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-silent-'));
  o = { inventoryFile: writeInventory(dir, pis, 'alexnet-6'), stateDir: join(dir, 'state'), logsDir: join(dir, 'logs'), offline: true, json: true };
});
after(async () => {
  spawnSync('ip', ['link', 'set', 'vpi2-h', 'up']);
  await pis?.teardown();
});

test('a host whose network is cut (no FIN) is called down within about 2 s while frames go on to the other replica', { timeout: 240_000 }, async () => {
  const up = await upCommand(o, { frames: 10, warmup: 2, log: () => {} });
  assert.deepEqual(up.failed, []);
  // alexnet-6 places block1's two replicas on vpi1 and vpi2: vpi2's link to the bridge goes down
  const logs: { at: number; m: string }[] = [];
  let cutAt = 0;
  const cut = setTimeout(() => {
    cutAt = Date.now();
    spawnSync('ip', ['link', 'set', 'vpi2-h', 'down']);
  }, 3000);
  const r = await runCommand(o, { frames: 160, warmup: 5, rate: 20, log: (m) => logs.push({ at: Date.now(), m }) }, 60_000, false);
  clearTimeout(cut);
  assert.ok(cutAt > 0, 'the link was cut during the run');
  const down = logs.find((l) => /replica 1 .* down/.test(l.m));
  assert.ok(down, `no replica called down: ${logs.map((l) => l.m).join(' | ')}`);
  const after = (down!.at - cutAt) / 1000;
  console.log(`silent host: block1 replica 1 (vpi2) called down ${after.toFixed(2)} s after its link was cut; ${r.report?.sender.failover.resent} frame(s) re-sent`);
  assert.ok(after <= 2.8, `called down ${after.toFixed(2)} s after the cut (the default failover timeout is 2 s, probes every 0.5 s)`);
  assert.equal(r.report?.completed, 160, r.runError);
  assert.equal(r.report?.dropped, 0);
});
