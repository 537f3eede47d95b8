// OpenSSH's client configuration, read as `ssh` reads it, so a host that `ssh pi1` reaches is reached
// by pifarm the same way: Host patterns, HostName, User, Port, IdentityFile (several),
// IdentitiesOnly, ProxyJump, Include, and Match where the parser evaluates it (the ssh-config
// package; `Match exec` is not run). The inventory wins over what is found here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import SSHConfig from 'ssh-config';

export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly: boolean;
  /** the first hop of ProxyJump ("none" is no jump) */
  proxyJump?: string;
}

export interface SshConfigSource {
  /** the file read (the user's ~/.ssh/config, or the one named) */
  file: string;
  lookup(alias: string): SshHostConfig;
}

export const userSshConfig = () => join(homedir(), '.ssh', 'config');

/** ~ and %d (home) as ssh expands them in paths; relative paths are from ~/.ssh, as ssh's are. */
function expand(p: string, base = join(homedir(), '.ssh')): string {
  const e = p.replace(/^~(?=$|\/)/, homedir()).replace(/%d/g, homedir());
  return isAbsolute(e) ? e : resolve(base, e);
}

/** A path with * or ? in its last part, as Include allows. */
function globFiles(pattern: string): string[] {
  if (!/[*?]/.test(basename(pattern))) return existsSync(pattern) ? [pattern] : [];
  const re = new RegExp(`^${basename(pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return readdirSync(dirname(pattern)).filter((n) => re.test(n)).sort().map((n) => join(dirname(pattern), n));
  } catch {
    return [];
  }
}

/** The text of `file` with every Include replaced by the files it names, in place (as ssh reads them). */
function withIncludes(file: string, depth = 0): string {
  if (depth > 16) throw new Error(`${file}: Include nested more than 16 deep (a loop?)`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => {
      const m = /^\s*Include\s+(.+?)\s*$/i.exec(line);
      if (!m) return line;
      return m[1]!.split(/\s+/).flatMap((p) => globFiles(expand(p.replace(/^"|"$/g, '')))).map((f) => withIncludes(f, depth + 1)).join('\n');
    })
    .join('\n');
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The ssh client config at `file` (default ~/.ssh/config); undefined when there is none. */
export function readSshConfig(file = userSshConfig()): SshConfigSource | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = SSHConfig.parse(withIncludes(file));
  return {
    file,
    lookup(alias) {
      const c = parsed.compute(alias, { ignoreCase: true, matchExec: false } as never) as Record<string, string | string[]>;
      const ids = c.identityfile === undefined ? [] : Array.isArray(c.identityfile) ? c.identityfile : [c.identityfile];
      const out: SshHostConfig = { identityFiles: ids.map((p) => expand(p.replace(/%h/g, alias))), identitiesOnly: /^yes$/i.test(first(c.identitiesonly) ?? '') };
      const hostName = first(c.hostname);
      if (hostName) out.hostName = hostName.replace(/%h/g, alias);
      const user = first(c.user);
      if (user) out.user = user;
      const port = Number(first(c.port));
      if (Number.isInteger(port) && port > 0 && port < 65536) out.port = port;
      const jump = first(c.proxyjump)?.split(',')[0]?.trim();
      if (jump && jump.toLowerCase() !== 'none') out.proxyJump = jump;
      return out;
    },
  };
}

/** Where a host's connection settings came from, for `pifarm inventory check`. */
export type ReachOrigin = Partial<Record<'address' | 'user' | 'port' | 'identity' | 'jump', string>>;

export interface Reach {
  address?: string;
  user: string;
  port: number;
  /** keys to try in order: the inventory's identity, else every IdentityFile of the ssh config */
  identities: string[];
  identitiesOnly: boolean;
  jump?: string;
  origin: ReachOrigin;
}

/**
 * A host's connection settings: what the inventory says, else what the ssh config says for the
 * host's name, else pifarm's defaults. A ProxyJump through a host the inventory does not list
 * becomes user@host:port from that host's own ssh config.
 */
export function reachOf(
  inv: { address?: string; user?: string; port?: number; identity?: string; jump?: string },
  name: string,
  ssh: SshConfigSource | undefined,
  defaults: { user: string; port: number },
  inventoryHosts: ReadonlySet<string>,
): Reach {
  const c = ssh?.lookup(name);
  const from = ssh ? `ssh config ${ssh.file}` : '';
  const origin: ReachOrigin = {};
  const pick = <T>(k: keyof ReachOrigin, mine: T | undefined, theirs: T | undefined, fallback?: T): T | undefined => {
    if (mine !== undefined) origin[k] = 'inventory';
    else if (theirs !== undefined) origin[k] = from;
    else if (fallback !== undefined) origin[k] = 'default';
    return mine ?? theirs ?? fallback;
  };
  const r: Reach = {
    user: pick('user', inv.user, c?.user, defaults.user)!,
    port: pick('port', inv.port, c?.port, defaults.port)!,
    identities: inv.identity ? [inv.identity] : c?.identityFiles ?? [],
    identitiesOnly: c?.identitiesOnly ?? false,
    origin,
  };
  const address = pick('address', inv.address, c?.hostName);
  if (address !== undefined) r.address = address;
  if (r.identities.length) origin.identity = inv.identity ? 'inventory' : from;
  let jump = pick('jump', inv.jump, c?.proxyJump);
  if (jump && !inv.jump && !inventoryHosts.has(jump) && ssh) {
    // ssh's own alias for the jump host: resolved as ssh would, [user@]host[:port]
    const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(jump);
    if (m) {
      const j = ssh.lookup(m[2]!);
      jump = `${m[1] ?? j.user ?? r.user}@${j.hostName ?? m[2]}:${m[3] ?? j.port ?? 22}`;
    }
  }
  if (jump !== undefined) r.jump = jump;
  return r;
}
