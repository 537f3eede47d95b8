// Virtual Pis: real Debian hosts with systemd and sshd, booted with systemd-nspawn on an overlay of
// this machine's own root (or an ARM root, arm.ts), each in its own network namespace on the
// bridge pfbr0. Tests and benches get real SSH and real systemd without hardware.
//
//   const pis = await startVirtualPis(4);
//   pis.hosts -> [{ name: 'vpi1', address: '10.99.0.11', port: 22 }, ...], pis.keyPath
//   await pis.stop('vpi2'); await pis.start('vpi2'); await pis.exec('vpi1', 'systemctl ...');
//   await pis.teardown();   // also runs at process exit; a crashed run is cleaned by the next start
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BRIDGE, VPI_ROOT, killContainersSync, teardownAllSync } from './cleanup.js';
import { acquireLock, liveOwner, releaseLock } from './lock.js';
import { armRootPath, cpuOf, ensureArmRoot, prepareArmHost, type VpiArch, type VpiMachine } from './arm.js';
import { HarnessError, childPids, pidAlive, readPid, run, sleep } from './system.js';
import { shq } from '../../transport/shell.js';
import { createLimitGroup, type LimitGroup } from '../emulate/cgroup.js';
import { limitProcessTree } from '../emulate/process-tree.js';

export interface VirtualPiHost {
  name: string;
  address: string;
  port: 22;
  arch: VpiArch;
  /** the emulated CPU model of an ARM host (QEMU_CPU) */
  cpu?: string;
}

export interface VirtualPiOptions {
  /** give containers CAP_NET_ADMIN (firewall steps) */
  netAdmin?: boolean;
  /** per host, from container start to sshd answering with the key; default 60 s */
  bootTimeoutMs?: number;
  /** keep them running after this process exits (the debugging CLI); default false */
  persist?: boolean;
  /** how long to wait for another live process's virtual Pis to go away; default 15 min */
  waitForOwnerMs?: number;
  /** per host (vpi1 first): x64 (this machine's own root, the default), or ARM code under qemu */
  machines?: VpiMachine[];
  /** progress (an ARM root being built) */
  log?: (m: string) => void;
}

export interface ExecOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export interface VirtualPis {
  hosts: VirtualPiHost[];
  /** private key authorised for root on every host */
  keyPath: string;
  /** milliseconds from container start to `systemctl is-system-running` over SSH, per host */
  bootMs: Record<string, number>;
  /** stops a host: a pulled plug by default, a clean poweroff with graceful */
  stop(name: string, opts?: { graceful?: boolean }): Promise<void>;
  /** boots a stopped host again (its disk, the overlay, is kept) */
  start(name: string): Promise<number>;
  /** runs a shell command inside a host (through nsenter: works even when sshd does not) */
  exec(name: string, command: string): Promise<ExecOutcome>;
  /**
   * How many times slower than this machine a host runs the same JavaScript (1 for an x64 host;
   * several times more under qemu): what tests scale their timeouts by, rather than Pi figures.
   */
  slowdown(name: string): Promise<number>;
  /**
   * Holds a host's whole process tree (its OS too, as on a Pi) in one memory cgroup from outside;
   * what it starts later inherits it. Removed at teardown.
   */
  limitMemory(name: string, memoryMb: number): LimitGroup;
  teardown(): Promise<void>;
}

/** Units the host has that a virtual Pi must not start: heavy, or they would talk to the internet. */
const MASKED_UNITS = [
  'postgresql.service', 'mysql.service', 'mariadb.service', 'redis-server.service', 'nginx.service', 'apache2.service',
  'docker.service', 'docker.socket', 'containerd.service', 'cloud-init.service', 'cloud-init-local.service',
  'cloud-config.service', 'cloud-final.service', 'cloud-init-hotplugd.socket', 'systemd-timesyncd.service',
  'apt-daily.timer', 'apt-daily-upgrade.timer', 'unattended-upgrades.service', 'man-db.timer', 'e2scrub_all.timer',
  'e2scrub_reap.service', 'fstrim.timer', 'dpkg-db-backup.timer', 'getty@tty1.service', 'systemd-networkd.service',
  'systemd-networkd-wait-online.service', 'NetworkManager.service', 'ModemManager.service', 'ssh.socket',
];

export const vpiAddress = (index: number) => `10.99.0.${10 + index}`;

/** A fixed piece of JavaScript (JIT-compiled float work and a typed array), timed by slowdown(). */
const SPIN = 'const t=Date.now();const a=new Float32Array(1<<16);let s=0;for(let k=0;k<300;k++)for(let i=0;i<a.length;i++){a[i]=a[i]*0.5+i;s+=Math.sqrt(a[i])}if(!(s>0))throw 0;console.log(Math.max(1,Date.now()-t))';

function hostDir(name: string): string {
  return join(VPI_ROOT, name);
}

async function setUpNetwork(): Promise<void> {
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['addr', 'add', '10.99.0.1/24', 'dev', BRIDGE]);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
}

async function setUpHost(name: string, index: number, pubKey: string, machine: VpiMachine): Promise<string[]> {
  // network: a netns with eth0 on the bridge; no default route, so nothing leaves 10.99.0.0/24
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['link', 'add', `${name}-h`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
  await run('ip', ['link', 'set', `${name}-h`, 'master', BRIDGE, 'up']);
  await run('ip', ['-n', name, 'addr', 'add', `${vpiAddress(index)}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  // disk: the machine's own root (or the cached ARM root), writes kept per host in a tmpfs upper dir
  const dir = hostDir(name);
  for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d), { recursive: true });
  const lower = machine.arch === 'x64' ? '/' : armRootPath(machine.arch);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${dir}/upper,workdir=${dir}/work`, `${dir}/root`]);
  const root = join(dir, 'root');
  const nspawnArgs = machine.arch === 'x64' ? [] : prepareArmHost(root, machine);
  writeFileSync(join(root, 'etc/hostname'), `${name}\n`);
  mkdirSync(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  chmodSync(join(root, 'root/.ssh'), 0o700);
  writeFileSync(join(root, 'root/.ssh/authorized_keys'), pubKey, { mode: 0o600 });
  const units = join(root, 'etc/systemd/system');
  for (const unit of MASKED_UNITS) {
    rmSync(join(units, unit), { force: true });
    symlinkSync('/dev/null', join(units, unit));
  }
  // sshd enabled whatever the machine's own policy, and its own host key per virtual Pi
  const sshUnit = ['/lib/systemd/system/ssh.service', '/usr/lib/systemd/system/ssh.service'].find((p) => existsSync(join(root, p)));
  if (!sshUnit) throw new HarnessError('openssh-server is not installed on this machine (apt-get install -y openssh-server)');
  mkdirSync(join(units, 'multi-user.target.wants'), { recursive: true });
  rmSync(join(units, 'multi-user.target.wants/ssh.service'), { force: true });
  symlinkSync(sshUnit, join(units, 'multi-user.target.wants/ssh.service'));
  for (const t of ['rsa', 'ecdsa', 'ed25519', 'dsa']) {
    rmSync(join(root, `etc/ssh/ssh_host_${t}_key`), { force: true });
    rmSync(join(root, `etc/ssh/ssh_host_${t}_key.pub`), { force: true });
  }
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', join(root, 'etc/ssh/ssh_host_ed25519_key')]);
  return nspawnArgs;
}

function nspawnPid(name: string): number | undefined {
  const pid = readPid(join(hostDir(name), 'nspawn.pid'));
  return pid !== undefined && pidAlive(pid) ? pid : undefined;
}

/** The project checkout (this file is dist/src/lab/vpi/harness.js in it). */
const CHECKOUT = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');

function bootContainer(name: string, opts: VirtualPiOptions, extraArgs: string[]): void {
  const dir = hostDir(name);
  const log = openSync(join(dir, 'console.log'), 'a');
  const args = ['-D', join(dir, 'root'), '-M', name, `--hostname=${name}`, '--register=no', '--keep-unit', '--boot',
    `--network-namespace-path=/run/netns/${name}`, '--link-journal=no', '--console=passive'];
  if (opts.netAdmin) args.push('--capability=CAP_NET_ADMIN');
  // The checkout, read-only at its own path: nspawn mounts a fresh tmpfs on the container's /tmp,
  // which would hide a checkout under /tmp (as CI's may be) from tests that run its files inside.
  args.push(`--bind-ro=${CHECKOUT}`, ...extraArgs);
  // detached: the container outlives a test that crashes; the next start cleans it up
  const child = spawn('systemd-nspawn', args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  if (child.pid === undefined) throw new HarnessError(`${name}: systemd-nspawn did not start (is systemd-container installed?)`);
  writeFileSync(join(dir, 'nspawn.pid'), String(child.pid));
  child.unref();
}

function tcpOpen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: 500 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('data', (d) => done(d.toString().startsWith('SSH-')));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

const sshArgs = (keyPath: string, address: string) => ['-i', keyPath, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
  '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', `root@${address}`];

/** Waits until sshd answers with our key and systemd reports the boot finished; returns ms. */
async function waitBooted(name: string, address: string, keyPath: string, timeoutMs: number, started: number): Promise<number> {
  const deadline = started + timeoutMs;
  while (Date.now() < deadline) {
    if (nspawnPid(name) === undefined) {
      const log = readFileSync(join(hostDir(name), 'console.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new HarnessError(`${name}: the container exited during boot; its console:\n${log}`);
    }
    if (await tcpOpen(address, 22)) {
      try {
        const state = (await run('ssh', [...sshArgs(keyPath, address), 'systemctl is-system-running --wait'], { timeoutMs: Math.max(1000, deadline - Date.now()) }).catch((e: Error) => e.message)).trim();
        if (/running|degraded/.test(state)) return Date.now() - started;
      } catch {
        /* not yet */
      }
    }
    await sleep(100);
  }
  throw new HarnessError(`${name}: not reachable over SSH at ${address} after ${timeoutMs} ms (see ${hostDir(name)}/console.log)`);
}

export async function startVirtualPis(n: number, opts: VirtualPiOptions = {}): Promise<VirtualPis> {
  if (process.getuid?.() !== 0) throw new HarnessError('virtual Pis need root (network namespaces, mounts, systemd-nspawn)');
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new HarnessError(`virtual Pis: n must be 1..200, got ${n}`);
  const machines = Array.from({ length: n }, (_, i) => opts.machines?.[i] ?? { arch: 'x64' as const });
  // ARM roots are built (or found cached) before the lock and anything else: a build takes minutes
  await Promise.all([...new Set(machines.map((m) => m.arch))].filter((a) => a !== 'x64').map((a) => ensureArmRoot(a as 'arm64' | 'armhf', opts.log)));
  // another test run on this machine owns them: wait for it (engineers share one machine)
  if (!(await acquireLock(opts.waitForOwnerMs ?? 15 * 60_000))) {
    throw new HarnessError(`virtual Pis are in use by process ${liveOwner()}; wait for it, or end it and run "node dist/src/lab/vpi/cli.js down"`);
  }
  teardownAllSync(); // whatever a crashed earlier run left
  // every ARM process is emulated: boot and sshd take several times longer
  const timeout = opts.bootTimeoutMs ?? (machines.some((m) => m.arch !== 'x64') ? 240_000 : 60_000);
  const names = Array.from({ length: n }, (_, i) => `vpi${i + 1}`);
  const hosts: VirtualPiHost[] = names.map((name, i) => {
    const m = machines[i]!;
    return m.arch === 'x64' ? { name, address: vpiAddress(i + 1), port: 22, arch: 'x64' } : { name, address: vpiAddress(i + 1), port: 22, arch: m.arch, cpu: cpuOf(m) };
  });
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const onExit = () => {
    teardownAllSync();
    releaseLock();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    onExit();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const removeHandlers = () => {
    process.removeListener('exit', onExit);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  let tornDown = false;
  try {
    mkdirSync(VPI_ROOT, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'pifarm-vpi', VPI_ROOT]);
    if (!opts.persist) {
      process.once('exit', onExit);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    const keyPath = join(VPI_ROOT, 'id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pifarm-vpi-test', '-f', keyPath]);
    const pubKey = readFileSync(`${keyPath}.pub`, 'utf8');
    await setUpNetwork();
    const extraArgs = await Promise.all(hosts.map((h, i) => setUpHost(h.name, i + 1, pubKey, machines[i]!)));
    const bootMs: Record<string, number> = {};
    const boot = async (name: string): Promise<number> => {
      const h = byName.get(name);
      if (!h) throw new HarnessError(`no virtual Pi named ${name}; have ${names.join(', ')}`);
      if (nspawnPid(name) !== undefined) return 0;
      const t0 = Date.now();
      bootContainer(name, opts, extraArgs[names.indexOf(name)]!);
      bootMs[name] = await waitBooted(name, h.address, keyPath, timeout, t0);
      return bootMs[name]!;
    };
    await Promise.all(names.map(boot));
    const groups: LimitGroup[] = [];
    const execIn = async (name: string, command: string): Promise<ExecOutcome> => {
      const pid = nspawnPid(name);
      const init = pid === undefined ? undefined : childPids(pid)[0];
      if (init === undefined) throw new HarnessError(`${name} is not running`);
      return new Promise((resolve) => {
        // an ARM host's commands run on its emulated CPU, as its units and logins do
        const cpu = byName.get(name)?.cpu;
        const env = cpu ? { ...process.env, QEMU_CPU: cpu } : process.env;
        const child = spawn('nsenter', ['-t', String(init), '-m', '-u', '-i', '-n', '-p', '-C', '--', '/bin/sh', '-c', command], { env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
    };
    return {
      hosts,
      keyPath,
      bootMs,
      async stop(name, o = {}) {
        const pid = nspawnPid(name);
        if (pid !== undefined) killContainersSync([pid], o.graceful ? 15_000 : 0);
      },
      start: boot,
      exec: execIn,
      limitMemory(name, memoryMb) {
        const pid = nspawnPid(name);
        const init = pid === undefined ? undefined : childPids(pid)[0];
        if (init === undefined) throw new HarnessError(`${name} is not running`);
        const group = createLimitGroup(`pifarm-vpi-${process.pid}-${name}`, { memoryMb });
        groups.push(group);
        limitProcessTree(group, init);
        return group;
      },
      async slowdown(name) {
        if (byName.get(name)?.arch === 'x64') return 1;
        const there = await execIn(name, `node -e ${shq(SPIN)}`);
        const here = await run(process.execPath, ['-e', SPIN]);
        const ms = Number(there.stdout.trim());
        if (there.code !== 0 || !(ms > 0)) throw new HarnessError(`${name}: cannot time node: ${there.stderr.trim()}`);
        return Math.max(1, ms / Math.max(1, Number(here.trim())));
      },
      async teardown() {
        if (tornDown) return;
        tornDown = true;
        removeHandlers();
        teardownAllSync({ graceMs: 0 });
        await Promise.all(groups.map((g) => g.remove().catch(() => {})));
        releaseLock();
      },
    };
  } catch (e) {
    removeHandlers();
    teardownAllSync();
    releaseLock();
    throw e;
  }
}
