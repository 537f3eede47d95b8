// The per-host settings an inventory may give in `defaults`, in a group's `vars` or on a host, and
// their checks. Each layer yields a partial; the loader merges defaults < groups < host.
import { isIPv4 } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Arch, HostSpec, ImageSettings } from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';
import { ENGINE_CHOICES } from '../engine/builds.js';

export const SETTING_KEYS = ['port', 'user', 'identity', 'agent', 'jump', 'arch', 'ram', 'cores', 'gflops', 'power', 'slots', 'local', 'engine', 'image', 'vars'] as const;
export const HOST_KEYS = ['address', ...SETTING_KEYS] as const;
const ARCHES: Arch[] = ['arm64', 'armhf', 'x64'];
const IMAGE_KEYS = ['wifi', 'staticAddress', 'gateway', 'dns', 'timezone', 'keymap', 'passwordHash', 'passwordEnv', 'publicKey'];
const WIFI_KEYS = ['ssid', 'country', 'passphraseEnv'];

export type HostSettings = Partial<Omit<HostSpec, 'name' | 'groups'>>;

/** Field checks that record an issue and return undefined when the value is wrong. */
export class Fields {
  constructor(
    readonly src: YamlSource,
    readonly base: YamlPath,
    readonly raw: Record<string, unknown>,
  ) {}
  private bad(k: string, msg: string): undefined {
    this.src.add([...this.base, k], msg);
    return undefined;
  }
  str(k: string, what = 'a non-empty string'): string | undefined {
    const v = this.raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v.trim()) return this.bad(k, `expected ${what}`);
    return v;
  }
  int(k: string, min: number, max: number, what: string): number | undefined {
    const v = this.raw[k];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) return this.bad(k, `expected ${what}, an integer from ${min} to ${max}`);
    return v as number;
  }
  num(k: string, what: string): number | undefined {
    const v = this.raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return this.bad(k, `expected ${what}, a number > 0`);
    return v;
  }
  bool(k: string): boolean | undefined {
    const v = this.raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.bad(k, 'expected true or false');
    return v;
  }
  oneOf<T extends string>(k: string, allowed: readonly T[]): T | undefined {
    const v = this.raw[k];
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) return this.bad(k, `expected one of ${allowed.join(', ')}`);
    return v as T;
  }
  map(k: string, keys: readonly string[] | null, what: string): Record<string, unknown> | undefined {
    const v = this.raw[k];
    if (v === undefined) return undefined;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return this.bad(k, `expected a mapping ${what}`);
    if (keys) this.src.checkKeys([...this.base, k], v, keys);
    return v as Record<string, unknown>;
  }
  sub(k: string, raw: Record<string, unknown>): Fields {
    return new Fields(this.src, [...this.base, k], raw);
  }
}

export function expandPath(p: string, inventoryDir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(inventoryDir, p);
}

/** What is wrong with an address, or undefined. All digits and dots reads as IPv4 to every resolver: 10.0.0.300 is a typo, not a host name. */
export function addressProblem(address: string): string | undefined {
  if (/^[\d.]+$/.test(address) && !isIPv4(address)) return `"${address}" is not a valid IPv4 address (four numbers from 0 to 255); expected an IPv4 address or a host name`;
  return undefined;
}

/** Reads the settings at `base` (a mapping already known to be one); unknown keys are reported. */
export function readSettings(src: YamlSource, base: YamlPath, raw: Record<string, unknown>, allowed: readonly string[], inventoryDir: string): HostSettings {
  src.checkKeys(base, raw, allowed);
  const f = new Fields(src, base, raw);
  const out: HostSettings = {};
  const set = <K extends keyof HostSettings>(k: K, v: HostSettings[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  const address = f.str('address', 'a host name or IP address');
  const bad = address === undefined ? undefined : addressProblem(address);
  if (bad) src.add([...base, 'address'], bad);
  set('address', address); // kept, so the host's other uses add no errors of their own
  set('port', f.int('port', 1, 65535, 'the SSH port'));
  set('user', f.str('user', 'the SSH user name'));
  const id = f.str('identity', 'the path of a private key');
  if (id) out.identity = expandPath(id, inventoryDir);
  set('agent', f.bool('agent'));
  const jump = f.str('jump', 'an inventory host name or user@host:port');
  if (jump && !/^([^@\s]+@)?[^:@\s]+(:\d{1,5})?$/.test(jump)) src.add([...base, 'jump'], 'expected an inventory host name or user@host:port');
  else set('jump', jump);
  set('arch', f.oneOf('arch', ARCHES));
  set('ramMb', f.int('ram', 64, 1 << 20, 'the RAM in MB'));
  set('cores', f.int('cores', 1, 1024, 'the number of CPU cores'));
  set('gflops', f.num('gflops', 'the effective compute speed in GFLOPS'));
  const power = f.map('power', ['idle', 'busy'], '{idle, busy} in watts');
  if (power) {
    const p = f.sub('power', power);
    const idleW = p.num('idle', 'the idle power in watts');
    const busyW = p.num('busy', 'the busy power in watts');
    if (idleW !== undefined && busyW !== undefined) {
      if (busyW < idleW) src.add([...base, 'power', 'busy'], `expected at least the idle power (${idleW} W)`);
      else out.power = { idleW, busyW };
    } else if (idleW !== undefined || busyW !== undefined) {
      src.add([...base, 'power'], 'expected both idle and busy watts');
    }
  }
  set('slots', f.int('slots', 1, 1024, 'how many node processes the host may run'));
  set('local', f.bool('local'));
  set('engine', f.oneOf('engine', ENGINE_CHOICES));
  const vars = f.map('vars', null, 'of free variables');
  if (vars) out.vars = vars;
  const image = f.map('image', IMAGE_KEYS, `with ${IMAGE_KEYS.join(', ')}`);
  if (image) out.image = readImage(f.sub('image', image), image);
  return out;
}

function readImage(f: Fields, raw: Record<string, unknown>): ImageSettings {
  const out: ImageSettings = {};
  const wifi = f.map('wifi', WIFI_KEYS, '{ssid, country, passphraseEnv}');
  if (wifi) {
    const w = f.sub('wifi', wifi);
    const ssid = w.str('ssid', 'the network name');
    const country = w.str('country', 'an ISO 3166-1 alpha-2 country code');
    if (country && !/^[A-Z]{2}$/.test(country)) f.src.add([...f.base, 'wifi', 'country'], 'expected an ISO 3166-1 alpha-2 country code such as GB or US');
    const passphraseEnv = w.str('passphraseEnv', 'the name of an environment variable');
    if (ssid && country) out.wifi = { ssid, country, ...(passphraseEnv ? { passphraseEnv } : {}) };
    else if (wifi.ssid === undefined) f.src.add([...f.base, 'wifi', 'ssid'], 'expected the network name', false, [...f.base, 'wifi']);
    else if (wifi.country === undefined) f.src.add([...f.base, 'wifi', 'country'], 'expected an ISO 3166-1 alpha-2 country code such as GB or US (Wi-Fi channels depend on it)', false, [...f.base, 'wifi']);
  }
  const staticAddress = f.str('staticAddress', 'an address in CIDR form such as 192.168.1.3/24');
  if (staticAddress && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(staticAddress)) f.src.add([...f.base, 'staticAddress'], 'expected an address in CIDR form such as 192.168.1.3/24');
  else if (staticAddress) out.staticAddress = staticAddress;
  for (const k of ['gateway', 'timezone', 'keymap', 'passwordHash', 'passwordEnv', 'publicKey'] as const) {
    const v = f.str(k);
    if (v) out[k] = v;
  }
  if (raw.dns !== undefined) {
    if (!Array.isArray(raw.dns) || !raw.dns.every((d) => typeof d === 'string')) f.src.add([...f.base, 'dns'], 'expected a list of name server addresses');
    else out.dns = raw.dns as string[];
  }
  return out;
}

/** Later layers win; `vars` and `image` merge key by key. */
export function mergeSettings(layers: HostSettings[]): HostSettings {
  const out: HostSettings = {};
  for (const l of layers) {
    const { vars, image, ...rest } = l;
    Object.assign(out, rest);
    if (vars) out.vars = { ...(out.vars ?? {}), ...vars };
    if (image) out.image = { ...(out.image ?? {}), ...image };
  }
  return out;
}
