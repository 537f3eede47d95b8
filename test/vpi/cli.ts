// Start and stop virtual Pis by hand, for debugging (they keep running after this exits):
//   node dist/test/vpi/cli.js up [N] [--net-admin]   boots vpi1..vpiN (default 4) and prints them
//   node dist/test/vpi/cli.js stop NAME              pulls the plug of one host
//   node dist/test/vpi/cli.js down                   removes every virtual Pi and the bridge
//   node dist/test/vpi/cli.js status                 lists the hosts and whether they run
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVirtualPis } from './harness.js';
import { VPI_ROOT, killContainersSync, teardownAllSync } from './cleanup.js';
import { pidAlive } from './system.js';
import { liveOwner, releaseLock } from './lock.js';

function nspawnPid(name: string): number | undefined {
  const f = join(VPI_ROOT, name, 'nspawn.pid');
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8'));
  return pidAlive(pid) ? pid : undefined;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, arg] = argv;
  switch (cmd) {
    case 'up': {
      const n = Number(arg ?? 4);
      const t0 = Date.now();
      const pis = await startVirtualPis(n, { persist: true, netAdmin: argv.includes('--net-admin') });
      console.log(`${n} virtual Pi(s) up in ${Date.now() - t0} ms; key ${pis.keyPath}`);
      for (const h of pis.hosts) console.log(`  ${h.name}  ${h.address}  boot ${pis.bootMs[h.name]} ms   ssh -i ${pis.keyPath} root@${h.address}`);
      return 0;
    }
    case 'stop': {
      const pid = arg ? nspawnPid(arg) : undefined;
      if (pid === undefined) {
        console.error(`no running virtual Pi named ${arg ?? '(none given)'}`);
        return 1;
      }
      killContainersSync([pid], 0);
      return 0;
    }
    case 'down':
      if (liveOwner() !== undefined) {
        console.error(`virtual Pis are in use by the live process ${liveOwner()}; end it first`);
        return 1;
      }
      teardownAllSync({ graceMs: 0 });
      releaseLock(true);
      console.log('virtual Pis removed');
      return 0;
    case 'status': {
      const names = existsSync(VPI_ROOT) ? readdirSync(VPI_ROOT).filter((n) => /^vpi\d+$/.test(n)) : [];
      if (names.length === 0) console.log('no virtual Pis');
      for (const n of names) console.log(`${n}  ${nspawnPid(n) !== undefined ? 'running' : 'stopped'}`);
      return 0;
    }
    default:
      console.error('usage: node dist/test/vpi/cli.js up [N] [--net-admin] | stop NAME | down | status');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  },
);
