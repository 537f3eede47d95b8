// An emulated Pi on a virtual Pi: the container's whole process tree in one CPU-quota and memory
// group from outside, so the units its systemd starts run at the quota and fail beyond the memory;
// and the shared-medium emulation on the real virtual-Pi bridge pfbr0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startVirtualPis } from '../../../src/lab/vpi/harness.js';
import { VPI_ROOT } from '../../../src/lab/vpi/cleanup.js';
import { childPids } from '../../../src/lab/vpi/system.js';
import { createLimitGroup } from '../../../src/lab/emulate/cgroup.js';
import { limitProcessTree } from '../../../src/lab/emulate/process-tree.js';
import { applyNetEmulation, removeNetEmulation } from '../../../src/lab/emulate/network.js';

const BUSY = `const t0=performance.now();const c0=process.cpuUsage();let n=0;while(performance.now()-t0<1500){for(let i=0;i<1e5;i++)n+=i}const c=process.cpuUsage(c0);console.log("share="+((c.user+c.system)/1000/(performance.now()-t0)).toFixed(3))`;
const FLOW = fileURLToPath(new URL('./net-flow.js', import.meta.url));

/** Sends `bytes` to a server at addr:port, retrying the connection while it starts. */
async function send(addr: string, port: number, bytes: number): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const s = createConnection({ host: addr, port }, () => {
          s.end(Buffer.alloc(bytes, 3));
        });
        s.on('error', reject);
        s.on('data', () => undefined);
        s.on('close', () => resolve());
      });
      return;
    } catch (e) {
      // node starts slowly on a Pi held at 10% of a core: allow it 25 s
      if (i > 250) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('virtual Pi: a whole container limited from outside; pfbr0 shaped', { timeout: 240_000 }, async (t) => {
  const t00 = performance.now();
  const lap = (what: string) => t.diagnostic(`${what} at ${((performance.now() - t00) / 1000).toFixed(1)} s`);
  const pis = await startVirtualPis(1);
  lap('booted');
  const group = createLimitGroup(`test-vpi-${process.pid}`, { cpuCores: 0.1, periodUs: 20_000, memoryMb: 300 });
  try {
    const nspawn = Number(readFileSync(`${VPI_ROOT}/vpi1/nspawn.pid`, 'utf8'));
    const init = childPids(nspawn)[0]!;
    const moved = limitProcessTree(group, init);
    t.diagnostic(`moved ${moved} processes of vpi1 into the group`);
    assert.ok(moved >= 3, 'init, journald, sshd at least');

    const busy = await pis.exec('vpi1', `systemd-run --quiet --wait --pipe /usr/bin/node -e '${BUSY}'`);
    const share = Number(/share=([\d.]+)/.exec(busy.stdout)?.[1]);
    assert.ok(share > 0.05 && share < 0.14, `a unit on the limited Pi gets ${share} of a core (quota 0.1): ${busy.stdout} ${busy.stderr}`);

    lap('cpu checked');
    const big = await pis.exec('vpi1', `systemd-run --quiet --wait --pipe /usr/bin/node -e 'const b=Buffer.alloc(600*1024*1024,1);console.log(b[9])'`);
    assert.notEqual(big.code, 0, 'a 600 MB allocation fails on a 300 MB Pi');
    assert.ok(group.oomKills() >= 1);

    lap('memory checked');
    const net = await applyNetEmulation({ bridge: 'pfbr0', rateMbit: 40, delayMs: 2, lossPct: 0 });
    assert.ok(net.ports.includes('vpi1-h'), `the virtual Pi's port is shaped: ${net.ports.join(',')}`);
    const server = pis.exec('vpi1', `timeout 30 /usr/bin/node ${FLOW} server 15021`);
    const t0 = performance.now();
    await send('10.99.0.11', 15021, 3_000_000);
    const out = await server;
    const r = JSON.parse(out.stdout.split('\n').find((l) => l.startsWith('{'))!) as { bytes: number; ms: number };
    const mbit = (r.bytes * 8) / 1e6 / (r.ms / 1000);
    t.diagnostic(`host -> vpi1 through the emulated medium: ${mbit.toFixed(1)} Mbit/s at 40 (${(performance.now() - t0).toFixed(0)} ms)`);
    assert.equal(r.bytes, 3_000_000);
    assert.ok(mbit < 46 && mbit > 20, `${mbit} Mbit/s`);
  } finally {
    await removeNetEmulation('pfbr0').catch(() => undefined);
    lap('test done');
    await pis.teardown();
    await group.remove();
    lap('torn down');
  }
});
