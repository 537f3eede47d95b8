// How to log in to a host, as ssh does: the keys the inventory or the ssh config names (missing
// IdentityFiles passed over), the agent when asked; with nothing named, the agent at SSH_AUTH_SOCK
// and then the default key files. Several methods become one ssh2 authHandler, tried in turn.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEY_FILES, TransportError } from './transport.js';
import type { SshTarget } from './ssh.js';

/**
 * How to log in, as ssh does: the keys the inventory or the ssh config gives (and the agent when
 * the inventory says agent: true); with none, the agent at SSH_AUTH_SOCK, then the default key files.
 */
export function authMethods(t: SshTarget, host: string): { keys: string[]; agent?: string } {
  // ssh passes over IdentityFiles that do not exist; the inventory's own identity must exist
  const given = [t.identity, ...(t.identities ?? [])].filter((k): k is string => !!k);
  const keys = [...(t.identity ? [t.identity] : []), ...(t.identities ?? []).filter((k) => existsSync(k))];
  const sock = process.env.SSH_AUTH_SOCK;
  if (keys.length || t.agent) return { keys, ...(t.agent && sock ? { agent: sock } : {}) };
  if (given.length) throw new TransportError(host, `no way to log in: none of the keys the ssh config names exists (${given.join(', ')})`);
  const defaults = DEFAULT_KEY_FILES.map((f) => join(homedir(), '.ssh', f));
  const found = defaults.filter((f) => existsSync(f));
  const agent = sock && !t.identitiesOnly ? sock : undefined;
  if (!found.length && !agent) {
    throw new TransportError(host, `no way to log in: no identity in the inventory or the ssh config, none of the default keys exists (${defaults.join(', ')}), and no ssh-agent (SSH_AUTH_SOCK is not set); give the host an identity, an IdentityFile in ~/.ssh/config, or start ssh-agent and ssh-add your key`);
  }
  return { keys: found, ...(agent ? { agent } : {}) };
}

/** ssh2's authHandler over several methods: the agent first (as ssh tries it), then each key. */
export function authHandler(username: string, keys: string[], agent: string | undefined, host: string) {
  const queue: object[] = [
    ...(agent ? [{ type: 'agent', username, agent }] : []),
    ...keys.map((k) => {
      try {
        return { type: 'publickey', username, key: readFileSync(k) };
      } catch (e) {
        throw new TransportError(host, `cannot read the private key ${k}: ${(e as Error).message}`);
      }
    }),
  ];
  return (_left: unknown, _partial: unknown, next: (m: object | false) => void) => next(queue.shift() ?? false);
}
