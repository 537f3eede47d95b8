// Start and stop virtual Pis by hand, for debugging (they keep running after this exits):
//   node dist/src/lab/vpi/cli.js up [N] [--net-admin] [--machines arm64:cortex-a53,armhf,x64,...]
//                                                    boots vpi1..vpiN (default 4) and prints them;
//                                                    --machines: one per host, ARM code under qemu
//   node dist/src/lab/vpi/cli.js roots [arm64] [armhf]  builds the cached ARM root file systems
//   node dist/src/lab/vpi/cli.js stop NAME              pulls the plug of one host
//   node dist/src/lab/vpi/cli.js down                   removes every virtual Pi and the bridge
//   node dist/src/lab/vpi/cli.js status                 lists the hosts and whether they run
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVirtualPis } from './harness.js';
import { VPI_ROOT, killContainersSync, teardownAllSync } from './cleanup.js';
import { pidAlive } from './system.js';
import { liveOwner, releaseLock } from './lock.js';
import { ensureArmRoot, type VpiMachine } from './arm.js';

/** "arm64:cortex-a53,armhf,x64" -> machines, one per host. */
function parseMachines(list: string): VpiMachine[] {
  return list.split(',').filter(Boolean).map((s) => {
    const [arch, cpu] = s.split(':');
    if (arch !== 'x64' && arch !== 'arm64' && arch !== 'armhf') throw new Error(`--machines: unknown architecture "${arch}" in "${s}"; expected x64, arm64[:CPU] or armhf[:CPU]`);
    return cpu ? { arch, cpu } : { arch };
  });
}

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
      const m = argv.indexOf('--machines');
      const machines = m >= 0 ? parseMachines(argv[m + 1] ?? '') : undefined;
      const pis = await startVirtualPis(n, { persist: true, netAdmin: argv.includes('--net-admin'), machines, log: console.log });
      console.log(`${n} virtual Pi(s) up in ${Date.now() - t0} ms; key ${pis.keyPath}`);
      for (const h of pis.hosts) console.log(`  ${h.name}  ${h.address}  ${h.cpu ?? h.arch}  boot ${pis.bootMs[h.name]} ms   ssh -i ${pis.keyPath} root@${h.address}`);
      return 0;
    }
    case 'roots': {
      const archs = argv.slice(1).length ? argv.slice(1) : ['arm64', 'armhf'];
      for (const a of archs) {
        if (a !== 'arm64' && a !== 'armhf') throw new Error(`roots: unknown architecture "${a}"; expected arm64 or armhf`);
      }
      // in parallel: each debootstrap's second stage is one emulated process at a time
      const done = await Promise.all(archs.map((a) => ensureArmRoot(a as 'arm64' | 'armhf', console.log)));
      for (const r of done) console.log(r);
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
      console.error('usage: node dist/src/lab/vpi/cli.js up [N] [--net-admin] [--machines LIST] | roots [arm64] [armhf] | stop NAME | down | status');
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
