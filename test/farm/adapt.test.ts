// run --adapt's planning (no host touched): farm-6 with a host lost is planned again for the
// five devices still alive (sender included); the moves name every host whose roles changed, the
// lost host among them; the new prediction comes from the planner; a lost sender cannot be adapted to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { adaptFarm, describeAdaptation, survivingInventory } from '../../src/farm/adapt.js';
import { planFarm } from '../../src/farm/plan.js';
import { planForInventory } from '../../src/topology/plan-inventory.js';

const opts = () => ({ inventoryFile: resolve('inventory/farm-6.yaml'), stateDir: mkdtempSync(join(tmpdir(), 'pifarm-adapt-')), controlAddress: '192.168.1.2' });

test('farm-6 losing an fc1 shard host: re-planned on the hosts alive, moves and predictions told', async () => {
  const o = opts();
  const plan = await planFarm(o);
  const a = await adaptFarm(plan, ['pi-fc1b'], o);
  assert.deepEqual(a.plan.hosts.map((h) => h.name), ['sender', 'pi-block1a', 'pi-block1b', 'pi-fc1a', 'pi-fc2']);
  assert.ok(a.plan.farm.placements.every((p) => p.host !== 'pi-fc1b'), 'nothing placed on the lost host');
  assert.ok(a.plan.farm.placements.length <= 4, 'one node per Pi (slots 1) on four node hosts');
  // every layer of the model is still computed, in order
  assert.deepEqual(a.plan.farm.stages.flatMap((s) => s.layers), plan.farm.stages.flatMap((s) => s.layers));
  assert.ok(a.moves.some((m) => m.startsWith('pi-fc1b (down): fc1.0.s1 -> -')), a.moves.join('\n'));
  assert.ok(a.predictedAfter > 0 && a.predictedBefore > 0);
  // the planner is exact: its best plan for fewer devices cannot beat its best for all of them
  // (the preset itself may predict less than either: a plan is never worse than the preset)
  const full = planForInventory(survivingInventory(plan.inv, [])).evaluation.predictedIps;
  assert.ok(a.predictedAfter <= full * 1.0001, `${a.predictedAfter} with a host lost, ${full} with all`);
  const text = describeAdaptation(a);
  assert.match(text, /^adapt: host\(s\) down: pi-fc1b; re-planned for the 5 host\(s\) still alive\n  topology: block1 x2 -> fc1 x1 \(2 shards\) -> fc2 x1  ->  .+\n(  moved: .+\n)+  predicted IPS: \d+\.\d\d -> \d+\.\d\d$/);
  // the new wiring points only at live hosts
  const alive = new Set(a.plan.hosts.map((h) => h.address));
  for (const n of a.plan.wiring.nodes) for (const e of n.next?.endpoints ?? []) assert.ok(alive.has(e.host), `${n.role} sends to ${e.host}`);
});

test('a lost sender host cannot be adapted to', async () => {
  const plan = await planFarm(opts());
  assert.throws(() => survivingInventory(plan.inv, ['sender']), /the sender's host sender is down: nothing to adapt to/);
});
