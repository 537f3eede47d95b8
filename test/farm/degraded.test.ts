// A farm with nodes down: runnable while every stage keeps a complete replica (the run goes on
// without the others, after a grace period), refused with the stage and hosts when a stage has none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { coverage, FarmDownError, waitForFarm, type NodeEndpoint } from '../../src/farm/degraded.js';
import { freePorts } from '../../src/lab/local-ports.js';

// alexnet-6: block1 x2, fc1 one replica of 2 shards, fc2 x1
function alexnet6(ports: number[]): NodeEndpoint[] {
  const n = (host: string, role: string, stageIndex: number, replica: number, shard: number, i: number): NodeEndpoint => ({ host, role, stageIndex, replica, shard, port: ports[i]!, address: '127.0.0.1' });
  return [n('pi1', 'block1', 0, 0, 0, 0), n('pi2', 'block1', 0, 1, 0, 1), n('pi3', 'fc1', 1, 0, 0, 2), n('pi4', 'fc1', 1, 0, 1, 3), n('pi5', 'fc2', 2, 0, 0, 4)];
}

test('coverage: a lost replica leaves the stage runnable, a lost shard does not', () => {
  const nodes = alexnet6([1, 2, 3, 4, 5]);
  assert.deepEqual(coverage(nodes, new Set()), { runnable: true, stages: [{ role: 'block1', live: 2, replicas: 2 }, { role: 'fc1', live: 1, replicas: 1 }, { role: 'fc2', live: 1, replicas: 1 }] });
  const oneReplica = coverage(nodes, new Set([nodes[1]!]));
  assert.equal(oneReplica.runnable, true);
  assert.deepEqual(oneReplica.stages[0], { role: 'block1', live: 1, replicas: 2 });
  const shard = coverage(nodes, new Set([nodes[3]!]));
  assert.equal(shard.runnable, false);
  assert.deepEqual(shard.stages[1], { role: 'fc1', live: 0, replicas: 1 });
});

async function listen(port: number): Promise<Server> {
  const s = createServer((c) => c.destroy());
  s.listen(port, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

test('waitForFarm runs without a down replica after the grace period, and refuses a farm missing a shard', async () => {
  const ports = await freePorts(5);
  const nodes = alexnet6(ports);
  const up = await Promise.all([0, 2, 3, 4].map((i) => listen(ports[i]!)));
  try {
    const logs: string[] = [];
    const t0 = Date.now();
    const missing = await waitForFarm(nodes, 20_000, 1000, (m) => logs.push(m));
    assert.deepEqual(missing.map((n) => n.host), ['pi2']);
    assert.ok(Date.now() - t0 >= 1000 && Date.now() - t0 < 10_000, 'waited the grace period, not the timeout');
    assert.match(logs.join('\n'), new RegExp(`running without block1\\.1 on pi2 \\(127\\.0\\.0\\.1:${ports[1]}\\): not answering; block1 1/2 replicas`));
    await new Promise<void>((r) => up[2]!.close(() => r())); // fc1 shard 1 goes down
    await assert.rejects(waitForFarm(nodes, 1500, 500, () => {}), (e: Error) => e instanceof FarmDownError && /stage\(s\) fc1 have no complete replica answering after 1\.5 s \(down: pi2, pi4\)/.test(e.message));
  } finally {
    for (const s of up) s.close();
  }
});
