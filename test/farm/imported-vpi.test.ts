// A trained model on a farm over SSH: nsfwjs' MobileNetV2 imported, cut into three stages on three
// virtual Pis by a topology file of cut points, its stage graphs sent to the hosts that run them (by content hash, checked on
// arrival), the frames streamed from this machine, outputs equal the whole model, labels named; a
// second deploy of the unchanged model sends no graph; plan --profile on one of them times its
// cut ranges there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { writeInventory } from '../../src/lab/vpi/inventory.js';
import { importTfjs } from '../../src/engine/import-tfjs.js';
import { runCommand, simpleCommand, upCommand } from '../../src/farm/commands.js';
import { freePorts } from '../../src/lab/local-ports.js';
import { waitFor } from '../wait.js';
import { parseMetrics } from '../live/prometheus.js';
import type { FarmOptions } from '../../src/farm/options.js';
import { profileInventoryHost } from '../../src/farm/profile-host.js';
import { loadInventory } from '../../src/inventory/load.js';
import { planImported } from '../../src/topology/plan-imported.js';
import { nsfwMobilenet, NSFW_LABELS } from '../engine/nsfw-fixture.js';

let pis: VirtualPis;
let dir: string;

before(async () => {
  pis = await startVirtualPis(3);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-imported-farm-'));
});
after(async () => {
  await pis?.teardown();
});

test('an imported MobileNetV2 on three virtual Pis: stage graphs deployed, every frame, outputs equal the whole model, labels', { timeout: 300_000 }, async () => {
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, NSFW_LABELS.join('\n') + '\n');
  const pkg = await importTfjs(nsfwMobilenet(dir).file, { modelsDir: join(dir, 'models'), name: 'nsfw', labelsFile: labels });
  // three stages between cut points that close inverted-residual blocks (pifarm model show nsfw)
  const topology = join(dir, 'nsfw-3.yaml');
  writeFileSync(topology, 'model: nsfw\nname: nsfw-3\nstages:\n  - { role: head, layers: input..block_4_add }\n  - { role: body, layers: block_4_add..block_12_add }\n  - { role: tail, layers: block_12_add..output }\n');
  const inventory = writeInventory(dir, pis, topology, { model: 'nsfw', models: './models' });
  const o: FarmOptions = { inventoryFile: inventory, stateDir: join(dir, 'state'), logsDir: join(dir, 'logs'), offline: true, json: true };
  const up = await upCommand(o, { frames: 12, warmup: 2, log: () => {} });
  assert.deepEqual(up.failed, [], JSON.stringify(up.runs.map((h) => h.results.filter((s) => s.status === 'failed'))));
  assert.equal(up.report?.completed, 12, up.runError);
  assert.ok(up.report!.check.ok, JSON.stringify(up.report!.check));
  assert.deepEqual(up.report!.stages.map((x) => [x.role, x.hosts]), [['head', ['vpi1']], ['body', ['vpi2']], ['tail', ['vpi3']]]);
  assert.ok(up.report!.top!.every((t) => NSFW_LABELS.includes(t.classes[0]!.label!)));
  for (const h of up.runs) {
    const model = h.results.find((s) => s.step === 'model');
    assert.equal(model?.status, 'changed', `${h.host}: ${JSON.stringify(model)}`);
    assert.ok(model!.bytesSent! > 0);
  }
  const files = await pis.exec('vpi1', 'ls /opt/pifarm/models; grep -h \'"file"\' /etc/pifarm/nodes/*.json');
  assert.match(files.stdout, /^[0-9a-f]{16}\.onnx$/m);
  // every stage gave the known answer computed here from the same graph before it took a frame
  const ready = await pis.exec('vpi2', 'cat /run/pifarm-node-body-0-0/ready.json');
  assert.match(ready.stdout, /"knownAnswer":"known-answer frame ok in \d+ ms: /);

  // the same model again: nothing to send, nothing to restart
  const again = await simpleCommand('deploy', o);
  assert.deepEqual(again.failed, []);
  for (const h of again.runs) assert.deepEqual(h.results.map((s) => [s.step, s.status]), [['model', 'ok'], ['code', 'ok'], ['config', 'ok'], ['restart', 'ok']]);

  // a run with the live view: /metrics names each virtual Pi's node, up, while the frames stream
  const [port] = await freePorts(1);
  const running = runCommand(o, { frames: 400, warmup: 2, rate: 20, serve: `127.0.0.1:${port}`, log: () => {} }, 60_000, false);
  let metrics = '';
  await waitFor('every node up in /metrics', async () => {
    metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    const m = parseMetrics(metrics);
    return ['vpi1', 'vpi2', 'vpi3'].every((host) => m.value('pifarm_node_up', { model: 'nsfw', host }) === 1);
  }, 60_000, 300);
  const r = await running;
  assert.equal(r.report?.completed, 400, r.runError);

  // plan --profile vpi2: the package copied over SSH to the user's cache there, each cut range timed by its release
  const profile = () => profileInventoryHost(loadInventory(inventory), 'vpi2', 'nsfw', o, { modelsDir: join(dir, 'models'), pkg });
  const p = await profile();
  assert.equal(p.name, 'vpi2');
  assert.deepEqual(Object.keys(p.layerSeconds!), pkg.cuts.slice(0, -1).map((c) => c.tensor));
  assert.ok(Object.values(p.layerSeconds!).every((x) => x > 0 && x < 1));
  const stat = `stat -c %Y /root/.cache/pifarm/models/nsfw/${pkg.graphFile}`; // the inventory logs in as root
  const sent = await pis.exec('vpi2', stat);
  assert.equal(sent.code, 0, sent.stderr);
  await profile();
  assert.equal((await pis.exec('vpi2', stat)).stdout, sent.stdout, 'a graph already there is not sent again');
  const plan = planImported(pkg, { classes: [{ profile: p, count: 2 }] });
  assert.ok(plan.evaluation.predictedIps > 0 && plan.stageDevices.every((d) => d === 'vpi2'));
});
