// Per-host image settings: the raw form (from an inventory or from flags, secrets still named by
// environment variable) and the resolved, validated form that the writers consume. Plain secrets
// are turned into a hash / WPA PSK here and go no further.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { ImageError } from './errors.js';
import { sha512Crypt } from './sha512-crypt.js';
import { wpaPsk } from './wpa-psk.js';
import * as v from './validate.js';

/** What one host's image should carry, before validation. `where` prefixes every error. */
export interface RawHostImage {
  where: string;
  hostname: string;
  user: string;
  passwordHash?: string;
  /** environment variable holding a plain password to hash */
  passwordEnv?: string;
  /** ask for a plain password on the terminal */
  passwordPrompt?: boolean;
  /** path of a public key file (~ expanded) */
  publicKeyFile?: string;
  wifi?: { ssid: string; country: string; passphraseEnv?: string };
  staticAddress?: string;
  gateway?: string;
  dns?: string[];
  timezone?: string;
  keymap?: string;
}

/** Validated settings; holds no secret in clear. */
export interface HostImage {
  hostname: string;
  user: string;
  /** crypt(3) hash; absent: the password is locked (key-only login) */
  passwordHash?: string;
  authorizedKeys: string[];
  wifi?: { ssid: string; country: string; /** 64 hex digits */ psk: string };
  /** static IPv4 on eth0; absent: DHCP */
  staticNet?: { address: string; gateway?: string; dns: string[] };
  timezone?: string;
  keymap?: string;
}

/** Where plain secrets come from: the environment, else an interactive prompt (if any). */
export interface SecretSource {
  env: NodeJS.ProcessEnv;
  /** asks without echo; absent when stdin is not a terminal */
  prompt?: (question: string) => Promise<string>;
}

export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

// One prompt per secret, shared by all hosts that use the same variable or SSID.
async function secret(src: SecretSource, cache: Map<string, string>, envName: string | undefined, question: string, where: string): Promise<string> {
  const key = envName ? `env:${envName}` : `q:${question}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let value = envName ? src.env[envName] : undefined;
  if (value === undefined) {
    if (!src.prompt) {
      throw new ImageError(`${where}: ${envName ? `environment variable ${envName} is not set` : 'no secret given'} and stdin is not a terminal to ask for it; set ${envName ?? 'the variable named by the flag'} and retry`);
    }
    value = await src.prompt(question);
  }
  cache.set(key, value);
  return value;
}

/** Validates all hosts and resolves their secrets; throws before anything is written. */
export async function resolveHosts(raws: RawHostImage[], src: SecretSource): Promise<HostImage[]> {
  const cache = new Map<string, string>();
  const seen = new Set<string>();
  const out: HostImage[] = [];
  for (const r of raws) {
    const w = r.where;
    const hostname = v.checkHostname(r.hostname, `${w}: hostname`);
    if (seen.has(hostname.toLowerCase())) throw new ImageError(`${w}: host name "${hostname}" appears twice; every image needs its own`);
    seen.add(hostname.toLowerCase());
    const user = v.checkUser(r.user, `${w}: user`);

    let passwordHash: string | undefined;
    if (r.passwordHash !== undefined) passwordHash = v.checkPasswordHash(r.passwordHash, `${w}: passwordHash`);
    else if (r.passwordEnv !== undefined || r.passwordPrompt) {
      const plain = await secret(src, cache, r.passwordEnv, `password for user ${user}: `, `${w}: passwordEnv`);
      if (plain.length === 0) throw new ImageError(`${w}: passwordEnv ${r.passwordEnv}: the password is empty`);
      passwordHash = sha512Crypt(plain);
    }

    if (!r.publicKeyFile) throw new ImageError(`${w}: no public key to authorise: set image.publicKey (or identity, whose .pub is used) or --public-key`);
    const keyPath = expandHome(r.publicKeyFile);
    let keyText: string;
    try {
      keyText = readFileSync(keyPath, 'utf8');
    } catch (e) {
      throw new ImageError(`${w}: public key ${keyPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const lines = keyText.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    if (lines.length === 0) throw new ImageError(`${w}: public key ${keyPath}: the file holds no key`);
    const authorizedKeys = lines.map((l, i) => v.checkPublicKey(l, `${w}: public key ${keyPath}:${i + 1}`));

    let wifi: HostImage['wifi'];
    if (r.wifi) {
      const ssid = v.checkSsid(r.wifi.ssid, `${w}: wifi.ssid`);
      const country = v.checkCountry(r.wifi.country, `${w}: wifi.country`);
      const pass = await secret(src, cache, r.wifi.passphraseEnv, `Wi-Fi passphrase for "${ssid}": `, `${w}: wifi.passphraseEnv`);
      v.checkPassphrase(pass, `${w}: wifi passphrase${r.wifi.passphraseEnv ? ` (${r.wifi.passphraseEnv})` : ''}`);
      wifi = { ssid, country, psk: wpaPsk(pass, ssid) };
    }

    let staticNet: HostImage['staticNet'];
    if (r.staticAddress !== undefined) {
      staticNet = {
        address: v.checkIpv4Cidr(r.staticAddress, `${w}: staticAddress`),
        gateway: r.gateway === undefined ? undefined : v.checkIp(r.gateway, `${w}: gateway`),
        dns: (r.dns ?? []).map((d, i) => v.checkIp(d, `${w}: dns[${i}]`)),
      };
    } else if (r.gateway !== undefined || (r.dns && r.dns.length > 0)) {
      throw new ImageError(`${w}: gateway/dns given without staticAddress; with DHCP they come from the DHCP server`);
    }

    out.push({
      hostname,
      user,
      passwordHash,
      authorizedKeys,
      wifi,
      staticNet,
      timezone: r.timezone === undefined ? undefined : v.checkTimezone(r.timezone, `${w}: timezone`),
      keymap: r.keymap === undefined ? undefined : v.checkKeymap(r.keymap, `${w}: keymap`),
    });
  }
  return out;
}
