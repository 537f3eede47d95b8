// Writes a file on a host as root (through sudo when the login user is not root), atomically.
import { shq, writeFileCommand } from '../transport/shell.js';
import type { Transport } from '../transport/transport.js';
import { ProvisionError } from './types.js';

export async function writeRemoteFile(t: Transport, path: string, content: string, mode: number, group?: string, owner?: string): Promise<void> {
  const chgrp = (group ? ` && chgrp ${shq(group)} ${shq(path)}` : '') + (owner ? ` && chown ${shq(owner)} ${shq(path)}` : '');
  const r = await t.exec(writeFileCommand(path, mode) + chgrp, { stdin: content, sudo: true });
  if (r.code !== 0) throw new ProvisionError(`${t.host}: cannot write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

export interface RemoteFile {
  path: string;
  content: string;
  mode: number;
  group?: string;
  owner?: string;
}

/** Writes several files (each atomically) and removes others in one round trip: a script on stdin. */
export async function writeRemoteFiles(t: Transport, files: RemoteFile[], remove: string[] = []): Promise<void> {
  const lines = ['set -e'];
  for (const f of files) {
    const tmp = `${shq(f.path)}.pifarm-tmp.$$`;
    const dir = f.path.slice(0, f.path.lastIndexOf('/')) || '/';
    lines.push(`mkdir -p ${shq(dir)}`, `echo ${Buffer.from(f.content).toString('base64')} | base64 -d > ${tmp}`, `chmod ${f.mode.toString(8)} ${tmp}`);
    if (f.group) lines.push(`chgrp ${shq(f.group)} ${tmp}`);
    if (f.owner) lines.push(`chown ${shq(f.owner)} ${tmp}`);
    lines.push(`mv -f ${tmp} ${shq(f.path)}`);
  }
  if (remove.length) lines.push(`rm -f ${remove.map(shq).join(' ')}`);
  const r = await t.exec('sh -s', { stdin: lines.join('\n') + '\n', sudo: true });
  if (r.code !== 0) throw new ProvisionError(`${t.host}: cannot write ${files.map((f) => f.path).join(', ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}
