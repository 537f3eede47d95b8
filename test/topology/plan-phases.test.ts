// The planner's phases one by one: the dominance rule of the Pareto sets, the pick and its
// tie-breaks, the spare devices going to the slowest stage of their class, and the hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COST_MODEL, PI3, PI4 } from '../../src/topology/cost-model.js';
import { covers, searchPipelines, SearchSpace, type Entry, type PickedStage } from '../../src/topology/plan-search.js';
import { assignHosts, better, giveSpare, pickBest, stagesOf } from '../../src/topology/plan-pick.js';
import { builtInSegments } from '../../src/topology/builtin-segments.js';

const key = (ips: number, bytes: number, stages: number, latency: number) => ({ ips, bytes, stages, latency });
const entry = (k: ReturnType<typeof key>): Entry => ({ ...k, prev: null, stage: null });

test('dominance: better or equal everywhere covers; latency breaks ties only without a cap', () => {
  assert.ok(covers(key(2, 10, 2, 1), key(1, 10, 2, 1), false), 'faster, same otherwise');
  assert.ok(!covers(key(2, 20, 2, 1), key(1, 10, 2, 1), false), 'faster but more bytes: both stay');
  assert.ok(covers(key(1, 10, 2, 5), key(1, 10, 2, 9), false), 'a tie broken by latency');
  assert.ok(!covers(key(1, 10, 2, 9), key(1, 10, 2, 5), false));
  assert.ok(covers(key(2, 10, 2, 9), key(1, 10, 2, 5), false), 'no cap: a faster pipeline covers a lower-latency one');
  assert.ok(!covers(key(2, 10, 2, 9), key(1, 10, 2, 5), true), 'a cap: latency is a dimension of its own');
});

test('pick: the highest IPS; equal IPS goes to fewer devices, then fewer stages', () => {
  const a = entry(key(3, 0, 2, 1));
  assert.ok(better(3.1, 9, a, { e: a, ips: 3, devices: 5 }));
  assert.ok(better(3, 4, a, { e: a, ips: 3, devices: 5 }));
  assert.ok(better(3, 5, entry(key(3, 0, 1, 1)), { e: a, ips: 3, devices: 5 }));
  assert.ok(!better(3, 5, entry(key(3, 0, 3, 1)), { e: a, ips: 3, devices: 5 }));
});

test('search + pick on AlexNet for 6 devices: stages cover every layer and use at most the 5 nodes', () => {
  const sp = new SearchSpace(builtInSegments('alexnet'), [{ profile: PI3, count: 5 }], DEFAULT_COST_MODEL, Infinity);
  const r = searchPipelines(sp, 0);
  assert.ok(r.states > 0 && r.candidates >= r.states);
  const best = pickBest(sp, r)!;
  const stages = stagesOf(best);
  assert.equal(stages[0]!.from, 0);
  assert.equal(stages[stages.length - 1]!.to, sp.L);
  for (let i = 1; i < stages.length; i++) assert.equal(stages[i]!.from, stages[i - 1]!.to, 'contiguous cuts');
  assert.ok(stages.reduce((a, s) => a + s.replicas * s.shards, 0) <= 5);
  assert.equal(pickBest(sp, searchPipelines(sp, Infinity)), null, 'a floor nothing reaches leaves nothing to pick');
});

test('spare devices go one replica at a time to the slowest stage of their class', () => {
  const sp = new SearchSpace(builtInSegments('alexnet'), [{ profile: PI3, count: 5 }], DEFAULT_COST_MODEL, Infinity);
  // conv block on one device, the rest of the model on one: three devices spare
  const picked: PickedStage[] = [
    { from: 0, to: 8, cls: 0, replicas: 1, shards: 1 },
    { from: 8, to: sp.L, cls: 0, replicas: 1, shards: 1 },
  ];
  const given = giveSpare(sp, picked);
  assert.equal(picked.reduce((a, p) => a + p.replicas, 0), 5, 'every spare device is used');
  assert.equal([...given.values()].reduce((a, b) => a + b, 0), 3);
  const ips = (p: PickedStage) => p.replicas / sp.option(p.from, p.to, 0, 1).serviceS;
  // after the last replica was given, moving it to the other stage would not raise the minimum
  const min = Math.min(...picked.map(ips));
  for (const p of picked) {
    if (p.replicas === 1) continue;
    const moved = picked.map((q) => ({ ...q, replicas: q === p ? q.replicas - 1 : q.replicas + 1 }));
    assert.ok(Math.min(...moved.map(ips)) <= min + 1e-12);
  }
});

test('hosts: instances take their class hosts in order, replica-major; no hosts without named classes', () => {
  const classes = [
    { profile: PI3, count: 3, hosts: ['a', 'b', 'c'] },
    { profile: PI4, count: 1, hosts: ['d'] },
  ];
  const picked: PickedStage[] = [
    { from: 0, to: 1, cls: 0, replicas: 1, shards: 2 },
    { from: 1, to: 2, cls: 1, replicas: 1, shards: 1 },
    { from: 2, to: 3, cls: 0, replicas: 1, shards: 1 },
  ];
  assert.deepEqual(assignHosts(classes, picked), [['a', 'b'], ['d'], ['c']]);
  assert.equal(assignHosts([{ profile: PI3, count: 3 }], picked), undefined);
});
