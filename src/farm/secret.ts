// The farm secret: 32 random bytes in the state folder (mode 0600), pushed to every host, proven on
// every node connection, so nothing else on the network can feed frames into the farm.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSecretHex, readSecretFile } from '../runtime/auth.js';
import { stateDirOf, type FarmOptions } from './options.js';

/** The farm's secret as hex, created on first use. */
export function farmSecret(o: FarmOptions): string {
  const dir = stateDirOf(o);
  const file = join(dir, 'secret');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, newSecretHex() + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  // the same checks a node applies (mode, format), so a damaged file is reported here
  readSecretFile(file);
  return readFileSync(file, 'utf8').trim();
}
