// Readiness of node units from what systemctl and the ready file say (data in, states out), the
// failure sentence a Pi owner reads, and the known-answer comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuFactsOf } from '../../src/provision/cpu-facts.js';
import { parseReadiness } from '../../src/provision/readiness.js';
import { describeFailure } from '../../src/provision/wait-ready.js';
import { checkSelfTest, makeSelfTest } from '../../src/runtime/self-test.js';
import type { HostSpec } from '../../src/inventory/types.js';
import type { HostFacts } from '../../src/provision/facts.js';

const show = (instance: string, o: Record<string, string | number>, ready = '') =>
  [`@@ ${instance}`, ...Object.entries({ ActiveState: 'active', SubState: 'running', Result: 'success', ExecMainCode: 0, ExecMainStatus: 0, NRestarts: 0, MainPID: 0, ...o }).map(([k, v]) => `${k}=${v}`), `ready=${ready}`].join('\n');

test('ready only when the running process wrote ready.json; a crash is a failure even while systemd restarts it', () => {
  const out = [
    show('a-0-0', { MainPID: 42 }, '{"pid":42,"engine":"onnxruntime-node 1.30.0 cpu"}'),
    show('b-0-0', { MainPID: 43 }, '{"pid":41,"engine":"stale"}'),
    show('c-0-0', { ActiveState: 'activating', SubState: 'auto-restart', Result: 'signal', ExecMainCode: 2, ExecMainStatus: 4, NRestarts: 1 }),
    show('d-0-0', { ActiveState: 'failed', SubState: 'failed', Result: 'signal', ExecMainCode: 2, ExecMainStatus: 11, NRestarts: 3 }),
    show('e-0-0', { ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainCode: 1, ExecMainStatus: 5 }),
  ].join('\n');
  const [a, b, c, d, e] = parseReadiness(out);
  assert.equal(a!.state, 'ready');
  assert.equal(a!.ready!.engine, 'onnxruntime-node 1.30.0 cpu');
  assert.equal(b!.state, 'starting', 'a ready file of an earlier process does not count');
  assert.deepEqual([c!.state, c!.signal, c!.gaveUp], ['failed', 'SIGILL', false]);
  assert.deepEqual([d!.state, d!.signal, d!.gaveUp, d!.unit], ['failed', 'SIGSEGV', true, 'failed (SIGSEGV, gave up restarting)']);
  assert.deepEqual([e!.state, e!.exitCode, e!.unit], ['failed', 5, 'failed (exit-code 5)']);
});

test('the failure sentence names the host, its CPU, the build, what happened and what to do', () => {
  const facts = { cpu: cpuFactsOf('arm64', new Map([['hwcap', '8fb'], ['cpupart', '0xd08']])) } as HostFacts;
  const host = { name: 'vpi2' } as HostSpec;
  const [crash] = parseReadiness(show('fc1-0-0', { ActiveState: 'activating', SubState: 'auto-restart', ExecMainCode: 2, ExecMainStatus: 4 }));
  const chosen = describeFailure({ host, facts, plan: { nodes: [], peers: [], ports: [] } }, crash!, []);
  assert.equal(chosen, 'vpi2 (Cortex-A72, ARMv8.0): onnxruntime-node 1.30.0 stops on an illegal instruction while loading fc1-0-0 (SIGILL: the build uses an instruction this CPU lacks); pifarm chose onnxruntime-node 1.30.0 for this CPU: give the host another (engine: tfjs runs everywhere)');
  const [wrong] = parseReadiness(show('fc1-0-0', { ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainCode: 1, ExecMainStatus: 5 }));
  const forced = describeFailure({ host: { ...host, engine: 'tfjs' }, facts, plan: { nodes: [], peers: [], ports: [] } }, wrong!, ['known-answer frame wrong: max difference 3.0e-2']);
  assert.equal(forced, 'vpi2 (Cortex-A72, ARMv8.0): tfjs gives a wrong known answer for fc1-0-0; pifarm uses onnxruntime-node 1.30.0 here unless the inventory forces another engine; the node said: known-answer frame wrong: max difference 3.0e-2');
});

test('known answer: equal within the tolerance relative to the output scale; a shifted or short output fails', () => {
  const ref = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 40);
  const st = makeSelfTest(ref, 7, 'x64', 1e-4);
  assert.equal(st.indices.length, 512);
  assert.equal(checkSelfTest(st, ref, 3).ok, true);
  const close = ref.map((v) => v * (1 + 1e-6));
  assert.equal(checkSelfTest(st, close, 3).ok, true);
  const off = ref.slice();
  off[st.indices[100]!] = off[st.indices[100]!]! + 0.1; // 0.1 / 40 = 2.5e-3 of the scale
  const r = checkSelfTest(st, off, 3);
  assert.equal(r.ok, false);
  assert.match(r.summary, /^known-answer frame wrong: max difference 2\.5e-3/);
  assert.equal(checkSelfTest(st, ref.subarray(0, 100), 3).ok, false);
  assert.equal(checkSelfTest(st, ref.map(() => NaN), 3).ok, false);
});
