// pifarm run --adapt on virtual Pis (real sshd, real systemd): alexnet-5 on four Pis, the sender
// on this machine. One Pi (an fc1 shard) has its plug pulled; `run --adapt` finds it silent, plans
// again for the three Pis alive, moves the roles there (configs pushed, units restarted, strays
// stopped), prints what moved and the new predicted IPS, and the run completes with the outputs
// checked against the whole model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { runCommand, upCommand } from '../../src/farm/commands.js';
import { projectRoot, type FarmOptions } from '../../src/farm/options.js';
import { buildBundle } from '../../src/provision/bundle.js';
import { writeInventory } from '../../src/lab/vpi/inventory.js';

let pis: VirtualPis;
let opts: FarmOptions;

before(async () => {
  pis = await startVirtualPis(4);
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-adapt-'));
  const inventory = writeInventory(dir, pis, 'alexnet-5', { senderPort: 19998 });
  const bundle = await buildBundle(projectRoot(), 'x64', join(dir, 'state', 'bundles'), 'onnx');
  opts = { inventoryFile: inventory, stateDir: join(dir, 'state'), logsDir: join(dir, 'logs'), offline: true, json: true, bundles: { x64: bundle } };
});
after(async () => {
  await pis?.teardown();
});

test('run --adapt: an fc1 shard host is lost, the farm re-plans on the three Pis alive and the run completes', async () => {
  const up = await upCommand(opts, { frames: 10, warmup: 2, log: () => {} });
  assert.deepEqual(up.failed, []);
  assert.equal(up.report?.completed, 10, up.runError);

  // alexnet-5 places block1, fc1 s0, fc1 s1, fc2 on vpi1..vpi4 in order: vpi3 holds fc1's second half
  await pis.stop('vpi3');
  const logs: string[] = [];
  const r = await runCommand(opts, { frames: 20, warmup: 2, log: (m) => logs.push(m) }, 60_000, true);
  const text = r.adaptation ?? '';
  assert.match(text, /^adapt: host\(s\) down: vpi3; re-planned for the 3 host\(s\) still alive/);
  assert.match(text, /moved: vpi3 \(down\): fc1\.0\.s1 -> -/);
  assert.match(text, /predicted IPS: \d+\.\d\d -> \d+\.\d\d/);
  assert.equal(r.report?.completed, 20);
  assert.equal(r.report?.dropped, 0);
  assert.equal(r.report?.check.ok, true, JSON.stringify(r.report?.check));
  // nothing runs on the lost Pi's roles any more: every stage of the new topology answered
  assert.ok(r.report!.stages.every((s) => s.utilization > 0), JSON.stringify(r.report!.stages));
  console.log(text);
});
