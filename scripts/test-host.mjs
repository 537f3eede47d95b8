#!/usr/bin/env node
// What the test suite needs of this machine, before anything is built: the Debian packages (virtual
// Pis, SD images, the browser, ARM emulation), root, and qemu's binfmt handlers. Installs what is
// missing when it can (root with apt-get), else stops at once with the exact command to run.
// `npm test` runs it first (pretest), and so does CI, through the same command.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const PACKAGES = [
  // virtual Pis: containers booted with systemd, sshd inside, on a bridge
  'systemd', 'systemd-container', 'openssh-server', 'openssh-client', 'iproute2', 'nftables', 'sudo', 'zstd',
  // SD image prep: FAT without mounting, partitioning, ext4 root, xz, validators
  'mtools', 'dosfstools', 'fdisk', 'e2fsprogs', 'xz-utils', 'shellcheck', 'cloud-init', 'netplan.io', 'openssl', 'util-linux', 'mount', 'coreutils',
  // the benchmark report test opens the HTML in a real browser
  'chromium',
  // virtual Pis that execute ARM code: qemu-user through binfmt_misc, Debian roots by debootstrap
  'qemu-user-static', 'binfmt-support', 'debootstrap',
  // pifarm discover: virtual Pis announce themselves by mDNS as Raspberry Pi OS does
  'avahi-daemon',
  // sources: video through ffmpeg; real photos (scikit-image's and darknet's sample images)
  'ffmpeg', 'python3-skimage', 'darknet',
];

const t0 = Date.now();
const say = (m) => console.error(`test host: ${m}`);
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', ...opts });
const isRoot = process.getuid?.() === 0;

function fail(msg) {
  say(msg);
  process.exit(1);
}

if (!isRoot) fail('the suite boots virtual Pis (network namespaces, mounts, systemd-nspawn): run it as root, e.g. sudo npm test');
if (run('dpkg-query', ['--version']).status !== 0) fail(`the suite installs its tools from Debian packages; this machine has no dpkg. It needs: ${PACKAGES.join(' ')}`);

const installed = (p) => run('dpkg-query', ['-W', '-f=${Status}', p]).stdout === 'install ok installed';
const missing = PACKAGES.filter((p) => !installed(p));
if (missing.length) {
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (run('apt-get', ['--version']).status !== 0) fail(`missing Debian packages: ${missing.join(' ')}; install them: ${cmd}`);
  say(`installing ${missing.join(' ')} (${cmd})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = run('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const inst = update.status === 0 ? run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] }) : update;
  const still = PACKAGES.filter((p) => !installed(p));
  if (inst.status !== 0 || still.length) fail(`could not install ${still.join(' ') || missing.join(' ')}; run: apt-get update && ${cmd}`);
}

// avahi is for the virtual Pis (their root is this machine's): on this machine itself it would
// announce on the real network, which the tests never do
if (missing.includes('avahi-daemon')) {
  if (existsSync('/run/systemd/system')) run('systemctl', ['disable', '--now', 'avahi-daemon.socket', 'avahi-daemon.service']);
  else run('avahi-daemon', ['--kill']);
  say('avahi-daemon installed for the virtual Pis and stopped on this machine (it would announce on the real network)');
}

// ARM binaries run in any container through qemu's handlers, registered with the F flag
const handler = (name) => `/proc/sys/fs/binfmt_misc/${name}`;
if (!existsSync(handler('status'))) run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
for (const name of ['qemu-aarch64', 'qemu-arm']) {
  const ok = () => existsSync(handler(name)) && /^enabled/m.test(readFileSync(handler(name), 'utf8')) && /flags:.*F/.test(readFileSync(handler(name), 'utf8'));
  if (!ok()) run('update-binfmts', ['--enable', name]);
  if (!ok()) fail(`qemu's binfmt handler ${name} is not registered with the F flag; run: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable ${name}`);
}
say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s${missing.length ? ` (installed ${missing.length} package(s))` : ''}`);
