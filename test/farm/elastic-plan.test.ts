// What `run --elastic` decides before it touches a host, as data: the epochs' instance names and
// port banks (above every port the farm's own units use), and the farms it refuses with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elasticPortBase, epochInstance } from '../../src/farm/elastic-ssh.js';
import { elasticProblem } from '../../src/farm/elastic-run.js';
import type { FarmPlan } from '../../src/farm/plan.js';

const placement = (host: string, port: number) => ({ host, role: 'block1', stageIndex: 0, replica: 0, shard: 0, port });
const planOf = (hosts: string[], ports: number[], o: { model?: string; modelsDir?: string; sender?: string } = {}) =>
  ({
    inv: { file: 'farm.yaml', farm: { ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}) } },
    hosts: hosts.map((name) => ({ name, local: name === 'local' })),
    farm: { model: o.model ?? 'alexnet', topologyName: 'alexnet-6', sender: { host: o.sender ?? 'local', port: 19999 }, placements: ports.map((p, i) => placement(hosts[i % hosts.length]!, p)) },
  }) as unknown as FarmPlan;

test('epoch instances and port banks', () => {
  assert.equal(epochInstance(3, { role: 'fc1', replica: 0, shard: 1 }), 'e3-fc1-0-1');
  // above the sender's 19999 and the nodes' 12345.. : the next hundred
  assert.equal(elasticPortBase(planOf(['a', 'b'], [12345, 12346])), 20000);
  assert.equal(elasticPortBase({ farm: { sender: { host: 'local', port: 5000 }, placements: [placement('a', 5101)] } } as unknown as FarmPlan), 5200);
});

test('farms --elastic refuses, each with the way out', () => {
  assert.equal(elasticProblem(planOf(['a', 'b', 'c'], [1, 2, 3])), undefined);
  assert.match(elasticProblem(planOf(['a', 'b'], [1, 2, 3])) ?? '', /one node process per host, and alexnet-6 has 3 for 2 host\(s\); add hosts/);
  // the sender's host runs no node of its own under --elastic
  assert.match(elasticProblem(planOf(['a', 'b', 'c'], [1, 2, 3], { sender: 'c' })) ?? '', /3 for 2 host/);
  assert.match(elasticProblem(planOf(['a', 'b'], [1], { model: 'mobilenet', modelsDir: '/m' })) ?? '', /mobilenet is an imported model; --elastic re-plans the built-in alexnet and vgg16 only/);
});
