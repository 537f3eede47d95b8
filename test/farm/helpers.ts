// Shared by the farm tests: an inventory for a set of virtual Pis, and running the real CLI.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VirtualPis } from '../vpi/harness.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** An inventory of virtual Pis (root login with the harness key), a topology (a preset, or a file with `model`), a sender (default local). */
export function writeInventory(dir: string, pis: VirtualPis, topology: string, o: { senderPort?: number; sender?: string; hosts?: number; file?: string; user?: string; model?: string; engine?: string; assignment?: Record<string, string[]>; hostSettings?: Record<string, Record<string, string>> } = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, o.file ?? 'farm.yaml');
  const hosts = pis.hosts.slice(0, o.hosts ?? pis.hosts.length);
  const lines = [
    'defaults:',
    `  user: ${o.user ?? 'root'}`,
    `  identity: ${pis.keyPath}`,
    'hosts:',
    ...hosts.map((h) => (o.hostSettings?.[h.name] ? `  ${h.name}: ${JSON.stringify({ address: h.address, ...o.hostSettings[h.name] })}` : `  ${h.name}: ${h.address}`)),
    'farm:',
    `  model: ${o.model ?? topology.split('-')[0]}`,
    `  topology: ${topology}`,
    `  sender: ${o.sender ?? 'local'}`,
    `  ports: { node: 12345, sender: ${o.senderPort ?? 19999} }`,
    `  engine: ${o.engine ?? 'onnx'}`,
    ...(o.assignment ? ['  assignment:', ...Object.entries(o.assignment).map(([role, hs]) => `    ${role}: [${hs.join(', ')}]`)] : []),
  ];
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pifarm <args>` as a child process in `cwd`; `onStart` gets the child (to act mid-run). */
export function pifarm(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env, CI: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
