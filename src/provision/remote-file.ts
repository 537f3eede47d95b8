// Writes a file on a host as root (through sudo when the login user is not root), atomically.
import { shq, writeFileCommand } from '../transport/shell.js';
import type { Transport } from '../transport/transport.js';
import { ProvisionError } from './types.js';

export async function writeRemoteFile(t: Transport, path: string, content: string, mode: number, group?: string, owner?: string): Promise<void> {
  const chgrp = (group ? ` && chgrp ${shq(group)} ${shq(path)}` : '') + (owner ? ` && chown ${shq(owner)} ${shq(path)}` : '');
  const r = await t.exec(writeFileCommand(path, mode) + chgrp, { stdin: content, sudo: true });
  if (r.code !== 0) throw new ProvisionError(`${t.host}: cannot write ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
}
