// What the last run of each command left for --retry-failed: the hosts that failed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDirOf, type FarmOptions } from './options.js';

interface LastRun {
  command: string;
  inventory: string;
  at: string;
  failed: string[];
}

const file = (o: FarmOptions, command: string) => join(stateDirOf(o), `last-${command}.json`);

export function saveLastRun(o: FarmOptions, command: string, inventory: string, failed: string[]): void {
  mkdirSync(stateDirOf(o), { recursive: true });
  const s: LastRun = { command, inventory, at: new Date().toISOString(), failed };
  writeFileSync(file(o, command), JSON.stringify(s, null, 2) + '\n');
}

/** The hosts that failed the last run of `command` on this inventory; undefined when there was none. */
export function lastFailed(o: FarmOptions, command: string, inventory: string): string[] | undefined {
  try {
    const s = JSON.parse(readFileSync(file(o, command), 'utf8')) as LastRun;
    return s.inventory === inventory ? s.failed : undefined;
  } catch {
    return undefined;
  }
}
