// Virtual Pis that execute ARM code: a Debian Bookworm root file system of the Pi's architecture
// (debootstrap, built once and cached outside the repository), booted by systemd-nspawn like the
// x64 virtual Pis. Every ARM binary in it runs under qemu-user through binfmt_misc (qemu-user-static
// registers its handlers with the F flag, so the container needs no qemu inside), emulating the
// Pi's CPU model (QEMU_CPU): an instruction that CPU lacks raises SIGILL as on the real board.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError, run } from './system.js';

export type VpiArch = 'x64' | 'arm64' | 'armhf';

/** A virtual Pi's machine: what it runs and, for ARM, which CPU qemu emulates. */
export interface VpiMachine {
  arch: VpiArch;
  /** qemu's CPU model: cortex-a53 (Pi 3), cortex-a72 (Pi 4), cortex-a76 (Pi 5), cortex-a7 (armhf) */
  cpu?: string;
  /**
   * the host sees this machine's /proc/cpuinfo, as qemu 7.2's user mode passes it through, instead
   * of the one its Pi's kernel would show: onnxruntime's CPU detection crashes on it (SIGSEGV)
   */
  hostCpuinfo?: boolean;
}

interface CpuModel {
  arch: 'arm64' | 'armhf';
  /** MIDR primary part number, as the Pi's /proc/cpuinfo shows it */
  part: string;
  board: string;
  /** the Features line of the Pi's /proc/cpuinfo */
  features: string;
}

const CPU_MODELS: Record<string, CpuModel> = {
  'cortex-a53': { arch: 'arm64', part: '0xd03', board: 'Raspberry Pi 3 Model B Rev 1.2', features: 'fp asimd evtstrm crc32 cpuid' },
  'cortex-a72': { arch: 'arm64', part: '0xd08', board: 'Raspberry Pi 4 Model B Rev 1.4', features: 'fp asimd evtstrm crc32 cpuid' },
  'cortex-a76': { arch: 'arm64', part: '0xd0b', board: 'Raspberry Pi 5 Model B Rev 1.0', features: 'fp asimd evtstrm crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp' },
  'cortex-a7': { arch: 'armhf', part: '0xc07', board: 'Raspberry Pi 2 Model B Rev 1.1', features: 'half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm' },
};

export const DEFAULT_CPU: Record<'arm64' | 'armhf', string> = { arm64: 'cortex-a72', armhf: 'cortex-a7' };

/** What the ARM roots hold: a Pi OS Lite's essentials for pifarm (Node.js 18 as Bookworm ships it). */
const PACKAGES = ['nodejs', 'systemd', 'systemd-sysv', 'openssh-server', 'iproute2', 'dbus', 'zstd', 'procps', 'sudo'];
const SUITE = 'bookworm';
const MIRROR = process.env.PIFARM_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

export function cacheDir(): string {
  return process.env.PIFARM_VPI_CACHE ?? '/var/cache/pifarm/vpi-roots';
}

/** The cached root of `arch`, named by what makes it (a changed package list is a new root). */
export function armRootPath(arch: 'arm64' | 'armhf'): string {
  const key = createHash('sha256').update(JSON.stringify({ arch, SUITE, PACKAGES, MIRROR })).digest('hex').slice(0, 12);
  return join(cacheDir(), `${SUITE}-${arch}-${key}`);
}

function binfmtReady(arch: 'arm64' | 'armhf'): boolean {
  const f = `/proc/sys/fs/binfmt_misc/${arch === 'arm64' ? 'qemu-aarch64' : 'qemu-arm'}`;
  return existsSync(f) && /^enabled/m.test(readFileSync(f, 'utf8')) && /flags:.*F/.test(readFileSync(f, 'utf8'));
}

/** Checks that ARM binaries can run here; says what to install when they cannot. */
export function requireArmEmulation(arch: 'arm64' | 'armhf'): void {
  if (!existsSync('/proc/sys/fs/binfmt_misc/status')) spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
  if (!binfmtReady(arch)) spawnSync('update-binfmts', ['--enable'], { stdio: 'ignore' });
  if (!binfmtReady(arch)) {
    throw new HarnessError(`ARM virtual Pis need qemu-user-static's binfmt handler for ${arch} with the F flag: apt-get install -y qemu-user-static binfmt-support debootstrap, then update-binfmts --enable`);
  }
}

/**
 * The root file system of `arch`, built with debootstrap if it is not cached (about 2.5 minutes:
 * its second stage runs under qemu). Builds into a temporary folder and renames it when complete,
 * under a lock, so a crashed or concurrent build never leaves a half root that looks finished.
 */
export async function ensureArmRoot(arch: 'arm64' | 'armhf', log: (m: string) => void = () => {}): Promise<string> {
  requireArmEmulation(arch);
  const root = armRootPath(arch);
  if (existsSync(join(root, 'usr/bin/node'))) return root;
  mkdirSync(cacheDir(), { recursive: true });
  const tmp = `${root}.building`;
  // under the lock: another process may have finished the same root meanwhile
  const script = `[ -e ${root}/usr/bin/node ] && exit 0; ` + [
    `rm -rf ${tmp}`,
    `debootstrap --arch=${arch} --variant=minbase --include=${PACKAGES.join(',')} ${SUITE} ${tmp} ${MIRROR} >${tmp}.log 2>&1 || { tail -n 20 ${tmp}.log >&2; exit 1; }`,
    `rm -rf ${tmp}/var/cache/apt/archives/*.deb ${tmp}/var/lib/apt/lists/*`,
    `mv -T ${tmp} ${root}`,
  ].join(' && ');
  log(`building the ${arch} root file system in ${root} (debootstrap, a few minutes; cached for later runs)`);
  const t0 = Date.now();
  try {
    await run('flock', [join(cacheDir(), `.${arch}.lock`), 'sh', '-c', script], { timeoutMs: 30 * 60_000 });
  } catch (e) {
    throw new HarnessError(`debootstrap of the ${arch} root failed (needs debootstrap and the Debian mirror ${MIRROR}): ${(e as Error).message.split('\n').slice(-5).join(' | ')}`);
  }
  if (!existsSync(join(root, 'usr/bin/node'))) throw new HarnessError(`debootstrap of the ${arch} root left no node in ${root}`);
  log(`${arch} root ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return root;
}

/** The CPU model a machine emulates (its own, or its architecture's default), checked. */
export function cpuOf(m: VpiMachine): string {
  const cpu = m.cpu ?? DEFAULT_CPU[m.arch as 'arm64' | 'armhf'];
  const model = CPU_MODELS[cpu];
  if (!model || model.arch !== m.arch) {
    throw new HarnessError(`no ${m.arch} CPU model "${cpu}"; have ${Object.entries(CPU_MODELS).filter(([, c]) => c.arch === m.arch).map(([n]) => n).join(', ')}`);
  }
  return cpu;
}

/**
 * Files that make every process of the container run on the emulated CPU: systemd's
 * DefaultEnvironment (units) and /etc/environment (SSH logins, through pam_env). Returns the
 * nspawn arguments: the CPU for PID 1, and the Pi's /proc/cpuinfo (qemu 7.2's user mode passes
 * this machine's through; the Pi's kernel would show its own core).
 */
export function prepareArmHost(root: string, m: VpiMachine): string[] {
  const cpu = cpuOf(m);
  const model = CPU_MODELS[cpu]!;
  mkdirSync(join(root, 'etc/systemd/system.conf.d'), { recursive: true });
  writeFileSync(join(root, 'etc/systemd/system.conf.d/pifarm-qemu-cpu.conf'), `[Manager]\nDefaultEnvironment=QEMU_CPU=${cpu}\n`);
  writeFileSync(join(root, 'etc/environment'), `QEMU_CPU=${cpu}\n`);
  // inside the root, named by its path there: nspawn makes binds onto /proc after entering the
  // container, where a source outside it is not seen
  mkdirSync(join(root, 'etc/pifarm-vpi'), { recursive: true });
  if (m.hostCpuinfo) return [`--setenv=QEMU_CPU=${cpu}`];
  const cpuinfo = join(root, 'etc/pifarm-vpi/cpuinfo');
  const line = model.arch === 'arm64' ? 'CPU architecture: 8' : 'CPU architecture: 7';
  const core = (i: number) => `processor\t: ${i}\nBogoMIPS\t: 108.00\nFeatures\t: ${model.features}\nCPU implementer\t: 0x41\n${line}\nCPU variant\t: 0x0\nCPU part\t: ${model.part}\nCPU revision\t: 3\n`;
  writeFileSync(`${cpuinfo}.tmp`, `${[0, 1, 2, 3].map(core).join('\n')}\nModel\t\t: ${model.board}\n`);
  renameSync(`${cpuinfo}.tmp`, cpuinfo);
  return [`--setenv=QEMU_CPU=${cpu}`, '--bind-ro=/etc/pifarm-vpi/cpuinfo:/proc/cpuinfo'];
}

/** Removes a root (to rebuild it). */
export function removeArmRoot(arch: 'arm64' | 'armhf'): void {
  rmSync(armRootPath(arch), { recursive: true, force: true });
}
