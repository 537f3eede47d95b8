// `pifarm image inspect`: what an image (or card) holds: partitions, boot files, the detected
// flavour, the OS of the root partition (read-only, through debugfs) and any customisation
// already present, ours or another tool's. Reads only.
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { cmdlineCustomisation } from './cmdline.js';
import { PIFARM_MARK } from './cloud-init.js';
import { listDir, readFile, type FatEntry } from './fat.js';
import { detectFlavour, type Flavour } from './flavour.js';
import { findBootPartition, readPartitionTable, type FatInfo, type Partition, type PartitionTable } from './partitions.js';
import { rawImage } from './source.js';

export interface InspectReport {
  image: string;
  table: PartitionTable;
  boot: { part: Partition; fat: FatInfo };
  files: FatEntry[];
  flavour: Flavour;
  /** PRETTY_NAME from the root partition's /etc/os-release, when debugfs can read it */
  os?: string;
  customisation: string[];
}

function osRelease(image: string, parts: Partition[], boot: Partition): string | undefined {
  for (const p of parts) {
    if (p === boot) continue;
    const r = spawnSync('debugfs', ['-R', 'cat /etc/os-release', `${image}?offset=${p.start}`], { encoding: 'utf8' });
    const m = r.status === 0 ? /^PRETTY_NAME="?([^"\n]*)"?/m.exec(r.stdout) : null;
    if (m) return `${m[1]} (partition ${p.index})`;
  }
  return undefined;
}

function describeUserData(text: string): string {
  let doc: Record<string, unknown> = {};
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch {
    return 'user-data: not valid YAML';
  }
  const mine = text.includes(PIFARM_MARK) ? ' (pifarm)' : '';
  const user = (doc.user as { name?: string } | undefined)?.name ?? (doc.users as { name?: string }[] | undefined)?.find?.((u) => typeof u === 'object')?.name;
  const parts = [doc.hostname ? `hostname ${String(doc.hostname)}` : '', user ? `user ${user}` : '', doc.timezone ? `timezone ${String(doc.timezone)}` : ''].filter(Boolean);
  return `user-data${mine}: ${parts.join(', ') || 'no hostname or user'}`;
}

export async function inspectImage(image: string, cacheDir?: string): Promise<InspectReport> {
  const raw = await rawImage(image, cacheDir);
  const table = readPartitionTable(raw);
  const boot = findBootPartition(raw, table);
  const vol = { image: raw, offset: boot.part.start };
  const files = listDir(vol);
  const has = (n: string) => files.some((f) => !f.dir && f.name.toLowerCase() === n);
  const text = (n: string) => readFile(vol, `/${n}`).toString('utf8');
  const flavour = detectFlavour(boot.fat.label, files, has('issue.txt') ? text('issue.txt') : undefined);

  const c: string[] = [];
  if (has('user-data')) c.push(describeUserData(text('user-data')));
  if (has('meta-data')) {
    const id = /instance[-_]id:\s*(\S+)/.exec(text('meta-data'));
    c.push(`meta-data: instance-id ${id ? id[1] : '(none)'}`);
  }
  if (has('network-config')) {
    const nc = text('network-config');
    const wifi = /access-points:\s*\n\s*"?([^":\n]+)"?:/.exec(nc);
    c.push(`network-config${nc.includes(PIFARM_MARK) ? ' (pifarm)' : ''}: ${/addresses:/.test(nc) ? 'static eth0' : 'eth0 dhcp'}${wifi ? `, wlan0 "${wifi[1]}"` : ''}`);
  }
  if (has('firstrun.sh')) {
    const fr = text('firstrun.sh');
    const host = /set_hostname '([^']*)'/.exec(fr);
    c.push(`firstrun.sh${fr.includes(PIFARM_MARK) ? ' (pifarm)' : ''}${host ? `: hostname ${host[1]}` : ''}`);
  }
  if (has('cmdline.txt')) {
    const ours = cmdlineCustomisation(text('cmdline.txt'));
    if (ours.length) c.push(`cmdline.txt: ${ours.join(' ')}`);
  }
  if (has('ssh') || has('ssh.txt')) c.push('ssh: sshd enabled on first boot (legacy)');
  if (has('userconf.txt') || has('userconf')) c.push(`userconf.txt: user ${text(has('userconf.txt') ? 'userconf.txt' : 'userconf').split(':')[0]!.trim()}`);
  if (has('wpa_supplicant.conf')) {
    const ssid = /ssid="([^"]*)"/.exec(text('wpa_supplicant.conf'));
    c.push(`wpa_supplicant.conf: ${ssid ? `"${ssid[1]}"` : 'no network'}`);
  }
  return { image, table, boot, files, flavour, os: osRelease(raw, table.partitions, boot.part), customisation: c };
}
