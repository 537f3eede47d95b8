// Options every farm command shares, and where pifarm keeps its state on the control machine.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '../provision/bundle.js';

export interface FarmOptions {
  inventoryFile: string;
  /** host or group names; absent: every host */
  limit?: string[];
  /** hosts worked on at once */
  concurrency?: number;
  /** machine-readable output: no progress display */
  json?: boolean;
  /** report what would change, change nothing */
  check?: boolean;
  /** never install packages from the network */
  offline?: boolean;
  /** hosts whose changed SSH host key the user accepts */
  acceptNewKey?: string[];
  /** record host keys in ~/.ssh/known_hosts instead of the project's own file */
  userKnownHosts?: boolean;
  /** only the hosts that failed the last run of this command */
  retryFailed?: boolean;
  /** default: $PIFARM_STATE_DIR or ./.pifarm */
  stateDir?: string;
  /** the control machine's address as the hosts reach it (the local sender's result port) */
  controlAddress?: string;
  /** how long start and deploy wait for a node to load and give its known answer */
  readyTimeoutMs?: number;
  /** deploy these prebuilt bundles (by architecture, or "arch:engine module") instead of building from the tree */
  bundles?: Partial<Record<string, Bundle>>;
  /** where logs/<run id>/ folders go (default ./logs) */
  logsDir?: string;
}

export const DEFAULT_CONCURRENCY = 16;

export function stateDirOf(o: FarmOptions): string {
  return resolve(o.stateDir ?? process.env.PIFARM_STATE_DIR ?? '.pifarm');
}

export function knownHostsFileOf(o: FarmOptions): string {
  return o.userKnownHosts ? join(homedir(), '.ssh', 'known_hosts') : join(stateDirOf(o), 'known_hosts');
}

/** The pifarm installation (holds dist/, roles/, node_modules/): what the bundle is made of. */
export function projectRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
}
