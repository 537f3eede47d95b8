// The controller's first topology, as data: a scripted driver (which devices answer) in, the
// stages and devices it deploys out. A device that is off at the start is planned around.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElasticController } from '../../src/elastic/controller.js';
import type { Deployment, ElasticDriver } from '../../src/elastic/driver.js';
import { findPreset, type StageSpec } from '../../src/model/spec.js';
import { stagesText } from '../../src/topology/choose.js';

function scripted(devices: string[], off: string[]): ElasticDriver & { deployed: { stages: StageSpec[]; devices: string[] }[] } {
  const deployed: { stages: StageSpec[]; devices: string[] }[] = [];
  return {
    deployed,
    maxMessageBytes: 1 << 20,
    devices: () => devices,
    reachable: async (d) => !off.includes(d),
    deploy: async (stages, on) => {
      deployed.push({ stages, devices: on });
      return { stages, first: { role: stages[0]!.role, mode: 'replicas', endpoints: [] }, nodes: [], stats: async () => [], stop: async () => {} } satisfies Deployment;
    },
  };
}

test('the first topology: on the first devices when all answer; planned for the ones that do when some are off', async () => {
  const alexnet6 = findPreset('alexnet-6').stages;
  const all = scripted(['d1', 'd2', 'd3', 'd4', 'd5', 'd6'], []);
  await new ElasticController({ model: 'alexnet', driver: all, log: () => {} }).start(alexnet6);
  assert.deepEqual(all.deployed[0]!.devices, ['d1', 'd2', 'd3', 'd4', 'd5']);
  assert.equal(all.deployed[0]!.stages, alexnet6);

  const logs: string[] = [];
  const some = scripted(['d1', 'd2', 'd3', 'd4', 'd5'], ['d2', 'd4']);
  await new ElasticController({ model: 'alexnet', driver: some, log: (m) => logs.push(m) }).start(alexnet6);
  const { stages, devices } = some.deployed[0]!;
  assert.ok(devices.every((d) => !['d2', 'd4'].includes(d)) && devices.length <= 3, devices.join());
  assert.equal(stages.reduce((a, s) => a + s.replicas * s.shards, 0), devices.length);
  assert.match(logs.join('\n'), new RegExp(`d2, d4 do\\(es\\) not answer: starting ${stagesText(stages).replace(/[()]/g, '\\$&')} on the 3 that do`));

  await assert.rejects(new ElasticController({ model: 'alexnet', driver: scripted(['d1'], ['d1']), log: () => {} }).start(alexnet6), /none of the 1 device\(s\) answers: d1/);
});
