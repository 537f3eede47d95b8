// Failover inside the pipeline: a node (identity hop "a") feeding two replicas of the next stage
// ("b", identity hops) loses one replica mid-stream. It notices the lost connection, re-sends what
// it had sent there recently, keeps sending to the survivor, and uses the replica again once it is
// restarted — nothing else restarted. Identity hops keep it cheap: the logic is what is tested.
import { test, before, after } from 'node:test';
import { at, nodeConfig } from './node-config.js';
import assert from 'node:assert/strict';
import { startNodeProcesses, type NodeProcesses } from '../../src/lab/local-launch.js';
import { freePorts } from '../../src/lab/local-ports.js';
import type { NodeConfig } from '../../src/runtime/config.js';
import { runSender, type SenderReport } from '../../src/runtime/sender.js';
import { waitFor } from '../wait.js';

const MAX = 1 << 20;
let a: NodeProcesses;
const b: (NodeProcesses | null)[] = [null, null];
let cfgA: NodeConfig;
const cfgB: NodeConfig[] = [];
let senderPort = 0;

// stage 0 for both: an identity hop at stage 0 takes the sender's uint8 frames as they are
const base = (role: string, port: number, senderPort: number): NodeConfig => nodeConfig({ role, listen: at(port), sender: at(senderPort), seed: 1, maxMessageBytes: MAX });

before(async () => {
  const [pa, pb0, pb1, ps] = await freePorts(4);
  senderPort = ps!;
  cfgB.push({ ...base('b', pb0!, ps!), replica: 0 }, { ...base('b', pb1!, ps!), replica: 1 });
  cfgA = { ...base('a', pa!, ps!), next: { role: 'b', mode: 'replicas', endpoints: cfgB.map((c) => c.listen) } };
  b[0] = await startNodeProcesses([cfgB[0]!], { maxMessageBytes: MAX });
  b[1] = await startNodeProcesses([cfgB[1]!], { maxMessageBytes: MAX });
  a = await startNodeProcesses([cfgA], { maxMessageBytes: MAX });
});
after(async () => {
  await a?.stop();
  for (const x of b) await x?.stop();
});

function stream(frames: number, idBase: number, during?: () => void): Promise<SenderReport> {
  const p = runSender({
    input: [16, 16, 3], first: { role: 'a', mode: 'replicas', endpoints: [cfgA.listen] }, listen: { host: '127.0.0.1', port: senderPort },
    frames, window: 4, rate: 200, idBase, sampleIds: [], keepTimeline: true, maxMessageBytes: MAX, frameTimeoutMs: 3000, log: () => {},
  });
  during?.();
  return p;
}

const viaB = (r: SenderReport, replica: number, after = -Infinity) => r.timeline!.filter((x) => x.doneAt > after && x.trace.some((h) => h.role === 'b' && h.replica === replica)).length;

test('a node loses a next-stage replica mid-stream, keeps going on the other, and uses it again when it is back', async () => {
  let killedAt = 0;
  const killed = await stream(400, 0, () => {
    setTimeout(() => {
      killedAt = Date.now();
      b[1]!.nodes[0]!.child.kill('SIGKILL');
    }, 600);
  });
  assert.ok(killedAt > 0);
  assert.equal(killed.completed + killed.dropped, 400);
  // the node re-sends its last frames to the dead replica; at most the frames it had queued beyond
  // that window are lost (an identity hop queues none)
  assert.ok(killed.dropped <= 8, `${killed.dropped} frames lost`);
  assert.ok(viaB(killed, 0) > 0 && viaB(killed, 1) > 0);
  assert.equal(viaB(killed, 1, killedAt + 500), 0, 'nothing through the dead replica');
  const log = a.nodes[0]!.output.join('\n');
  assert.match(log, /replica 1 \(127\.0\.0\.1:\d+\) is down \((connection lost|not connected)\): \d+ of \d+ frame\(s\) in flight re-sent to 1 live replica/);

  let backAt = 0;
  const back = await stream(600, 1000, () => {
    setTimeout(() => {
      void startNodeProcesses([cfgB[1]!], { maxMessageBytes: MAX }).then((p) => {
        b[1] = p;
        backAt = Date.now();
      });
    }, 500);
  });
  await waitFor('the restarted replica', () => backAt > 0);
  assert.equal(back.dropped, 0);
  assert.ok(viaB(back, 1, backAt + 1000) > 50, `only ${viaB(back, 1, backAt + 1000)} frames through the restarted replica`);
  await waitFor('the node to log the return', () => /replica 1 \(127\.0\.0\.1:\d+\) is back: used again/.test(a.nodes[0]!.output.join('\n')));
});
