// known_hosts in OpenSSH's format, so the file can be the project's own (.pifarm/known_hosts) or the
// user's ~/.ssh/known_hosts: plain or hashed (|1|salt|hash) host patterns, [host]:port for
// non-22 ports. We only ever append a first-contact key or replace one the user told us to accept.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownKey {
  /** 1-based line in the file */
  line: number;
  keyType: string;
  /** base64 of the key blob */
  key: string;
}

/** The name a host is recorded under: "addr" on port 22, "[addr]:port" otherwise (OpenSSH's rule). */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** SHA256:<base64 without padding>, as `ssh-keygen -l` prints it. */
export function fingerprint(keyBase64OrBlob: string | Buffer): string {
  const blob = typeof keyBase64OrBlob === 'string' ? Buffer.from(keyBase64OrBlob, 'base64') : keyBase64OrBlob;
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('ascii');
}

function patternMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return field.split(',').some((p) => p === name);
}

/** Keys recorded for a host (pattern as from hostPattern); markers (@revoked...) are skipped. */
export function knownKeys(file: string, pattern: string): KnownKey[] {
  if (!existsSync(file)) return [];
  const out: KnownKey[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const text = raw.trim();
      if (!text || text.startsWith('#') || text.startsWith('@')) return;
      const [hosts, keyType, key] = text.split(/\s+/);
      if (hosts && keyType && key && patternMatches(hosts, pattern)) out.push({ line: i + 1, keyType, key });
    });
  return out;
}

export function addKnownKey(file: string, pattern: string, blob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const prefix = existsSync(file) && !readFileSync(file, 'utf8').endsWith('\n') && readFileSync(file, 'utf8').length > 0 ? '\n' : '';
  appendFileSync(file, `${prefix}${pattern} ${keyTypeOfBlob(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}

/** Drops every line recorded for the host (the user accepted a new key), keeping the rest. */
export function removeKnownHost(file: string, pattern: string): number {
  if (!existsSync(file)) return 0;
  const lines = readFileSync(file, 'utf8').split('\n');
  const keep = lines.filter((raw) => {
    const text = raw.trim();
    if (!text || text.startsWith('#') || text.startsWith('@')) return true;
    return !patternMatches(text.split(/\s+/)[0] ?? '', pattern);
  });
  if (keep.length !== lines.length) writeFileSync(file, keep.join('\n'), { mode: 0o600 });
  return lines.length - keep.length;
}

/** Host key algorithms to ask the server for, so it presents a key of a type we already know. */
export function hostKeyAlgorithmsFor(keyTypes: string[]): string[] {
  const out: string[] = [];
  for (const t of keyTypes) {
    if (t === 'ssh-rsa') out.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else out.push(t);
  }
  return [...new Set(out)];
}
