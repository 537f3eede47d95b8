// The first-boot step's decisions, facts in and commands out (a scripted transport: pure step logic;
// cloud-init itself runs in test/image/cloud-init-vpi.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstBootStep } from '../../src/provision/first-boot.js';
import type { StepContext } from '../../src/provision/types.js';
import type { ExecResult, Transport } from '../../src/transport/transport.js';

function ctx(cloudInit: 'running' | 'done' | 'absent', answer: ExecResult, check = false) {
  const commands: string[] = [];
  const t = { host: 'pi1', exec: async (c: string) => (commands.push(c), answer) } as unknown as Transport;
  const log: string[] = [];
  const c = { host: { name: 'pi1' }, t, facts: { cloudInit }, check, offline: false, log: (m: string) => log.push(m), plan: {} } as unknown as StepContext;
  return { c, commands, log };
}

test('no first-boot work: nothing is run', async () => {
  for (const state of ['absent', 'done'] as const) {
    const { c, commands } = ctx(state, { code: 0, stdout: '', stderr: '' });
    assert.equal((await firstBootStep.run(c)).status, 'ok');
    assert.deepEqual(commands, []);
  }
});

test('cloud-init still running: provision waits for it, with progress, and goes on', async () => {
  const { c, commands, log } = ctx('running', { code: 0, stdout: '\nstatus: done\n', stderr: '' });
  const r = await firstBootStep.run(c);
  assert.deepEqual(commands, ['cloud-init status --wait']);
  assert.match(log[0]!, /waiting for it/);
  assert.match(r.detail, /^waited \d+ s for cloud-init's first boot \(done\)$/);
  assert.equal(c.facts.cloudInit, 'done');
  const { c: chk, commands: none } = ctx('running', { code: 0, stdout: '', stderr: '' }, true);
  assert.match((await firstBootStep.run(chk)).detail, /would wait/);
  assert.deepEqual(none, [], '--check waits for nothing');
});

test('a first boot that failed stops provisioning with where to look; recoverable errors do not', async () => {
  await assert.rejects(firstBootStep.run(ctx('running', { code: 1, stdout: 'status: error', stderr: '' }).c), /^Error: pi1: cloud-init's first boot ended error: status: error; see \/var\/log\/cloud-init\.log on the host$/);
  assert.equal((await firstBootStep.run(ctx('running', { code: 2, stdout: 'status: done', stderr: '' }).c)).status, 'ok');
});
