// The live musical chair over SSH, on virtual Pis: `pifarm run --elastic` on alexnet-6 (five node
// processes, one per host). A block1 host's link is cut mid-stream (no FIN, as a Pi losing its
// power) and restored; later a second host is cut and a sixth Pi is added to the inventory file.
// The farm moves live each time: a loss re-plans for the hosts left, the host that answers again
// and the Pi that joined (provisioned and deployed by the run) are used by later moves. Every
// frame completes once, the outputs equal the whole model, and no epoch unit is left running.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { writeInventory } from '../../src/lab/vpi/inventory.js';
import { appendHosts } from '../../src/inventory/append-hosts.js';
import { runCommand, upCommand } from '../../src/farm/commands.js';
import type { FarmOptions } from '../../src/farm/options.js';

let pis: VirtualPis;
let o: FarmOptions;
let dir: string;
const link = (vpi: string, state: 'up' | 'down') => spawnSync('ip', ['link', 'set', `${vpi}-h`, state]);

before(async () => {
  pis = await startVirtualPis(6);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-elastic-vpi-'));
  o = { inventoryFile: writeInventory(dir, pis, 'alexnet-6', { hosts: 5 }), stateDir: join(dir, 'state'), logsDir: join(dir, 'logs'), offline: true, json: true };
});
after(async () => {
  for (const h of pis?.hosts ?? []) link(h.name, 'up');
  await pis?.teardown();
});

test('run --elastic over SSH: a host lost and back, another lost, a Pi added to the inventory joins; every frame once', { timeout: 420_000 }, async () => {
  const up = await upCommand(o, { frames: 10, warmup: 2, log: () => {} });
  assert.deepEqual(up.failed, []);
  const logs: string[] = [];
  const results = join(dir, 'frames.jsonl');
  const vpi6 = pis.hosts[5]!;
  let t0 = Date.now();
  const at = (s: number, f: () => void) => setTimeout(() => {
    logs.push(`[test at ${((Date.now() - t0) / 1000).toFixed(1)} s] ${f.toString()}`);
    f();
  }, s * 1000);
  // the events' times count from the first result (the first topology takes seconds to load);
  // epoch 1 runs one process per host in inventory order: vpi1 holds block1's first replica
  const timers: NodeJS.Timeout[] = [];
  const started = setInterval(() => {
    if (!existsSync(results) || statSync(results).size === 0) return;
    clearInterval(started);
    t0 = Date.now();
    timers.push(
      at(3, () => link('vpi1', 'down')),
      at(15, () => link('vpi1', 'up')),
      at(35, () => link('vpi2', 'down')),
      at(35, () => appendHosts(o.inventoryFile, [{ name: vpi6.name, mdnsName: `${vpi6.name}.local`, address: vpi6.address, port: 22 }])),
    );
  }, 100);
  // 20 frames/s for 75 s: a move here takes 5-12 s to load (AlexNet processes on two shared cores)
  const r = await runCommand(o, { frames: 1500, warmup: 5, rate: 20, inputs: { results }, elastic: { farm: o }, log: (m) => logs.push(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}`) }, 60_000, false).finally(() => {
    clearInterval(started);
    timers.forEach(clearTimeout);
  });
  const report = r.report!;
  const why = report.moves?.map((m) => `${m.why} -> ${m.devices.join(',')} (at ${(m.atMs / 1000).toFixed(1)} s, ready in ${(m.startMs / 1000).toFixed(1)} s, drained in ${(m.drainMs / 1000).toFixed(1)} s)`) ?? [];
  const tell = `moves: ${why.join(' | ')}\nlog:\n${logs.join('\n')}`;
  console.log(`elastic over SSH: ${why.length} moves: ${why.join(' | ')}; ${report.sender.moves?.resent ?? 0} frame(s) re-sent`);
  assert.equal(report.completed, 1500, tell);
  assert.equal(report.dropped, 0, tell);
  assert.ok(report.check.ok, `max |diff| ${report.check.maxAbsDiff}`);
  const moves = report.moves ?? [];
  const lost1 = moves.findIndex((m) => m.why === 'vpi1 lost');
  assert.ok(lost1 >= 0 && !moves[lost1]!.devices.includes('vpi1'), tell);
  const back = moves.findIndex((m, i) => i > lost1 && m.devices.includes('vpi1'));
  assert.ok(back > lost1, `vpi1 is used again after it came back: ${tell}`);
  assert.ok(moves.some((m) => m.why === 'vpi2 lost' && !m.devices.includes('vpi2')), tell);
  assert.ok(moves.some((m) => m.devices.includes('vpi6')), `the Pi added to the inventory joined: ${tell}`);
  assert.match(logs.join('\n'), /vpi6 is set up/);
  // every frame id once (the results file: one line per frame as it completed)
  const ids = readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l).frame as number);
  assert.equal(ids.length, 1500);
  assert.equal(new Set(ids).size, 1500);
  // nothing of the run's epochs is left on the hosts that answer; vpi2's come down with it back
  link('vpi2', 'up');
  for (const h of pis.hosts.filter((x) => x.name !== 'vpi2')) {
    const units = (await pis.exec(h.name, "systemctl list-units 'pifarm-node@e*' --state=active --plain --no-legend")).stdout.trim();
    assert.equal(units, '', `${h.name} still runs ${units}`);
  }
  // the farm's own units are as deploy left them
  const own = (await pis.exec('vpi3', "systemctl list-units 'pifarm-node@*' --state=active --plain --no-legend")).stdout.trim();
  assert.match(own, /^pifarm-node@(?!e\d)/m, 'vpi3 runs its deployed unit');
});
