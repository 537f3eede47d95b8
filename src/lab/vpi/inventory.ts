// An inventory of a set of virtual Pis, for the tests and benches that run a farm on them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VirtualPis } from './harness.js';

/** An inventory of virtual Pis (root login with the harness key), a topology (a preset, or a file with `model`), a sender (default local). */
export function writeInventory(dir: string, pis: VirtualPis, topology: string, o: { senderPort?: number; sender?: string; hosts?: number; file?: string; user?: string; model?: string; engine?: string; models?: string; assignment?: Record<string, string[]>; hostSettings?: Record<string, Record<string, string>> } = {}): string {
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
    ...(o.models ? [`  models: ${o.models}`] : []),
    ...(o.assignment ? ['  assignment:', ...Object.entries(o.assignment).map(([role, hs]) => `    ${role}: [${hs.join(', ')}]`)] : []),
  ];
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
