// `pifarm discover --add FILE`: found hosts go into an inventory's `hosts:` as `name: address`
// (with the port where it is not 22), and nothing else of the file changes: its comments, order
// and entries stay (the yaml package edits the document, not a re-serialised copy). A host whose
// address is already there is left alone; a name taken by another address gets "-2", "-3"...
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isMap, isScalar, parseDocument, YAMLMap } from 'yaml';
import type { FoundHost } from './discover.js';
import { loadHosts } from './load.js';

export interface Appended {
  added: { name: string; address: string }[];
  /** found hosts already in the inventory (by address) */
  kept: string[];
}

export class AppendError extends Error {
  readonly userFacing = true;
}

function addressOf(v: unknown): string | undefined {
  if (isScalar(v)) return String(v.value);
  if (isMap(v)) {
    const a = v.get('address');
    return a === undefined ? undefined : String(a);
  }
  return undefined;
}

export function appendHosts(file: string, found: FoundHost[]): Appended {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# hosts found by pifarm discover\n';
  const doc = parseDocument(text);
  if (doc.errors.length) throw new AppendError(`${file}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix it or give another --add file`);
  if (doc.contents === null) doc.contents = new YAMLMap() as never;
  if (!isMap(doc.contents)) throw new AppendError(`${file}: expected a mapping with hosts, defaults, groups and farm`);
  let hosts = doc.get('hosts');
  if (hosts === undefined || hosts === null) {
    hosts = new YAMLMap();
    doc.set('hosts', hosts);
  }
  if (!isMap(hosts)) throw new AppendError(`${file}: hosts: expected a mapping of host names`);
  const map = hosts as YAMLMap;
  const names = new Set(map.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)));
  const addresses = new Set(map.items.map((p) => addressOf(p.value)).filter((a): a is string => !!a));
  const out: Appended = { added: [], kept: [] };
  for (const h of found) {
    if (addresses.has(h.address) || addresses.has(h.mdnsName)) {
      out.kept.push(h.name);
      continue;
    }
    let name = h.name;
    for (let i = 2; names.has(name); i++) name = `${h.name}-${i}`;
    map.set(name, h.port === 22 ? h.address : doc.createNode({ address: h.address, port: h.port }, { flow: true }));
    names.add(name);
    addresses.add(h.address);
    out.added.push({ name, address: h.address });
  }
  if (out.added.length === 0) return out;
  // written next to the file and renamed over it: an interrupted write leaves the old file whole
  const tmp = `${file}.pifarm-tmp`;
  writeFileSync(tmp, doc.toString());
  try {
    loadHosts(tmp);
  } catch (e) {
    throw new AppendError(`${file}: with the found hosts added the inventory would not load, so it was left as it was: ${(e as Error).message}`);
  }
  renameSync(tmp, file);
  return out;
}
