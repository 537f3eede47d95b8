// Realistic small Raspberry Pi images built with the real tools: an MBR (or GPT) made by sfdisk,
// an 8 MiB FAT boot partition made by mkfs.vfat and filled with mcopy, an ext4 root made by
// mkfs.ext4 -d holding /etc/os-release. About 18 MiB each, sparse.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Kind = 'bookworm' | 'cloud' | 'ubuntu' | 'plain';
const MiB = 1 << 20;
export const BOOT_START = 1 * MiB;
export const BOOT_SIZE = 8 * MiB;
export const ROOT_START = BOOT_START + BOOT_SIZE;
export const ROOT_SIZE = 8 * MiB;

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `pifarm-image-${tag}-`));
}

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' } });
}

const CMDLINE = 'console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n';

function bootFiles(kind: Kind): Record<string, string> {
  const common = { 'config.txt': '[all]\narm_64bit=1\ndtparam=audio=on\n', 'start4.elf': 'x'.repeat(3000), 'kernel8.img': 'k'.repeat(20000) };
  if (kind === 'bookworm') return { ...common, 'cmdline.txt': CMDLINE, 'issue.txt': 'Raspberry Pi reference 2024-11-19\nGenerated using pi-gen, https://github.com/RPi-Distro/pi-gen, 891df1e21ed2b6099a2e6a13e26c91dea44b34d4, stage2\n' };
  if (kind === 'cloud') {
    return {
      ...common,
      'cmdline.txt': CMDLINE.replace(' init=/usr/lib/raspberrypi-sys-mods/firstboot', ''),
      'issue.txt': 'Raspberry Pi reference 2025-11-24\nGenerated using pi-gen, https://github.com/RPi-Distro/pi-gen, cd1d7b4, stage2\n',
      'user-data': '#cloud-config\n# This is the user-data configuration file for cloud-init.\n',
      'meta-data': 'instance-id: rpios-image\n',
      'network-config': '# netplan v2 network configuration\nnetwork:\n  version: 2\n',
    };
  }
  if (kind === 'ubuntu') {
    return {
      ...common,
      'cmdline.txt': 'console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 root=LABEL=writable rootfstype=ext4 rootwait fixrtc\n',
      'README': 'Ubuntu Server for Raspberry Pi\n',
      'user-data': '#cloud-config\nchpasswd:\n  expire: true\n  users:\n  - name: ubuntu\n    password: ubuntu\n    type: text\nssh_pwauth: true\n',
      'meta-data': 'instance_id: cloud-image\n',
      'network-config': 'network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n      optional: true\n',
    };
  }
  return { ...common, 'cmdline.txt': CMDLINE };
}

export interface BuildOptions {
  gpt?: boolean;
  /** leave only about this many bytes free on the boot partition */
  fillBootTo?: number;
  /** make partition 1 Linux ext4 too: an image with no FAT boot partition */
  noFat?: boolean;
  /** FAT32 as on real Pi images; needs at least 65525 clusters, so the boot partition is 40 MiB */
  fat32?: boolean;
}

/** Builds a Pi-like image at dir/<kind>.img and returns its path. */
export function buildImage(dir: string, kind: Kind, opts: BuildOptions = {}): string {
  const img = join(dir, `${kind}${opts.gpt ? '-gpt' : ''}.img`);
  const bootSize = opts.fat32 ? 40 * MiB : BOOT_SIZE;
  const rootStart = BOOT_START + bootSize;
  const total = rootStart + ROOT_SIZE + MiB; // 1 MiB spare at the end, as the GPT backup needs
  run('truncate', ['-s', String(total), img]);
  const b = BOOT_START / 512, bs = bootSize / 512, r = rootStart / 512, rs = ROOT_SIZE / 512;
  const table = opts.gpt
    ? `label: gpt\nstart=${b}, size=${bs}, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=boot\nstart=${r}, size=${rs}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n`
    : `label: dos\nlabel-id: 0x6c586e13\nstart=${b}, size=${bs}, type=${opts.noFat ? '83' : 'c'}\nstart=${r}, size=${rs}, type=83\n`;
  run('sfdisk', ['-q', img], table);

  const work = mkdtempSync(join(dir, 'build-'));
  try {
    const fat = join(work, 'boot.fat');
    const label = kind === 'ubuntu' ? 'system-boot' : 'bootfs';
    if (opts.noFat) run('mkfs.ext4', ['-q', fat, `${bootSize / 1024}k`]);
    else {
      run('mkfs.vfat', [...(opts.fat32 ? ['-F', '32', '-s', '1'] : []), '-n', label, '-C', fat, String(bootSize / 1024)]);
      run('mmd', ['-i', fat, '::/overlays']);
      writeFileSync(join(work, 'f'), 'dtoverlay blob');
      run('mcopy', ['-i', fat, join(work, 'f'), '::/overlays/vc4-kms-v3d.dtbo']);
      for (const [name, content] of Object.entries(bootFiles(kind))) {
        writeFileSync(join(work, 'f'), content);
        run('mcopy', ['-i', fat, join(work, 'f'), `::/${name}`]);
      }
      if (opts.fillBootTo !== undefined) {
        const free = Number(/([\d ]+) bytes free/.exec(run('mdir', ['-i', fat, '::/']))![1]!.replace(/ /g, ''));
        writeFileSync(join(work, 'f'), Buffer.alloc(Math.max(0, free - opts.fillBootTo), 1));
        run('mcopy', ['-i', fat, join(work, 'f'), '::/filler.bin']);
      }
    }
    const root = join(work, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    const osRelease = kind === 'ubuntu'
      ? 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n'
      : `PRETTY_NAME="Debian GNU/Linux ${kind === 'cloud' ? '13 (trixie)' : '12 (bookworm)'}"\nNAME="Debian GNU/Linux"\nID=debian\n`;
    writeFileSync(join(root, 'etc', 'os-release'), osRelease);
    writeFileSync(join(root, 'etc', 'hostname'), 'raspberrypi\n');
    const ext = join(work, 'root.ext4');
    run('mkfs.ext4', ['-q', '-F', '-d', root, ext, `${ROOT_SIZE / 1024}k`]);
    run('dd', [`if=${fat}`, `of=${img}`, 'bs=1M', `seek=${BOOT_START / MiB}`, 'conv=notrunc,sparse', 'status=none']);
    run('dd', [`if=${ext}`, `of=${img}`, 'bs=1M', `seek=${rootStart / MiB}`, 'conv=notrunc,sparse', 'status=none']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return img;
}

/** sha256 of a byte range of a file (the root partition, to prove it is untouched). */
export function hashRange(path: string, start: number, len: number): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let done = 0; done < len; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, len - done), start + done);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function hashFile(path: string): string {
  return createHash('sha256').update(execFileSync('cat', [path], { maxBuffer: 1 << 30 })).digest('hex');
}

/** A file read from the image's boot partition with mtools, independently of src/image. */
export function mread(img: string, name: string, offset = BOOT_START): string {
  return run('mcopy', ['-n', '-i', `${img}@@${offset}`, `::/${name}`, '-']);
}

export function mexists(img: string, name: string, offset = BOOT_START): boolean {
  return spawnSync('mdir', ['-i', `${img}@@${offset}`, `::/${name}`], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' } }).status === 0;
}

/** A fresh ed25519 key pair in OpenSSH public form, written to dir/id_ed25519.pub. */
export function makePublicKey(dir: string, name = 'id_ed25519'): { path: string; line: string } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
  const line = `ssh-ed25519 ${blob.toString('base64')} farm@control`;
  const path = join(dir, `${name}.pub`);
  writeFileSync(path, line + '\n');
  return { path, line };
}
