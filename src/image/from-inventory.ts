// Per-host raw image settings from an Inventory (the typed result of src/inventory's loader), with
// command-line overrides applied on top. Validation happens later, in resolveHosts.
import { isAbsolute, dirname, resolve } from 'node:path';
import type { HostSpec, HostsInventory } from '../inventory/types.js';
import { ImageError } from './errors.js';
import { expandHome, type RawHostImage } from './settings.js';

/** Flag overrides; every field wins over the inventory's value for every selected host. */
export type ImageOverrides = Partial<Omit<RawHostImage, 'where' | 'wifi'>> & {
  wifiSsid?: string;
  wifiCountry?: string;
  wifiPassphraseEnv?: string;
  /** no password at all (key-only login), whatever the inventory says */
  lockPassword?: boolean;
};

function pathFrom(inv: HostsInventory | undefined, p: string): string {
  const e = expandHome(p);
  return isAbsolute(e) || !inv ? e : resolve(dirname(inv.file), e);
}

export function rawFromHost(h: HostSpec, inv: HostsInventory | undefined, o: ImageOverrides): RawHostImage {
  const img = h.image ?? {};
  const where = inv ? `${inv.file}: host ${h.name}` : `host ${h.name}`;
  const key = o.publicKeyFile ?? (img.publicKey ? pathFrom(inv, img.publicKey) : h.identity ? `${pathFrom(inv, h.identity)}.pub` : undefined);
  const ssid = o.wifiSsid ?? img.wifi?.ssid;
  const country = o.wifiCountry ?? img.wifi?.country;
  if ((ssid === undefined) !== (country === undefined)) {
    throw new ImageError(`${where}: Wi-Fi needs both an SSID and a country (${ssid === undefined ? 'wifi.ssid / --wifi-ssid' : 'wifi.country / --wifi-country'} is missing)`);
  }
  // A hash given on the command line replaces an inventory passwordEnv and vice versa.
  const pwFlag = o.lockPassword || o.passwordPrompt || o.passwordHash !== undefined || o.passwordEnv !== undefined;
  if (o.lockPassword && (o.passwordHash !== undefined || o.passwordEnv !== undefined)) throw new ImageError('--lock-password cannot be combined with --password-hash or --password-env');
  return {
    where,
    hostname: o.hostname ?? h.name,
    user: o.user ?? h.user,
    passwordHash: pwFlag ? o.passwordHash : img.passwordHash,
    passwordEnv: pwFlag ? o.passwordEnv : img.passwordEnv,
    passwordPrompt: o.passwordPrompt,
    publicKeyFile: key,
    wifi: ssid !== undefined && country !== undefined ? { ssid, country, passphraseEnv: o.wifiPassphraseEnv ?? img.wifi?.passphraseEnv } : undefined,
    staticAddress: o.staticAddress ?? img.staticAddress,
    gateway: o.gateway ?? img.gateway,
    dns: o.dns ?? img.dns,
    timezone: o.timezone ?? img.timezone,
    keymap: o.keymap ?? img.keymap,
  };
}

/** The selected hosts (`names`, or every host) of an inventory as raw image settings. */
export function rawFromInventory(inv: HostsInventory, names: string[] | 'all', o: ImageOverrides): RawHostImage[] {
  // A `local: true` host is the control machine itself, not a Pi: it gets no SD card image.
  const pis = inv.hosts.filter((h) => !h.local);
  const hosts = names === 'all' ? pis : names.map((n) => {
    const h = inv.hosts.find((x) => x.name === n);
    if (!h) throw new ImageError(`${inv.file}: no host "${n}"; hosts: ${pis.map((x) => x.name).join(', ')}`);
    if (h.local) throw new ImageError(`${inv.file}: host ${n} is local: true (this machine), not a Pi; it needs no SD card image`);
    return h;
  });
  if (hosts.length === 0) throw new ImageError(`${inv.file}: no hosts to make images for (every host is local)`);
  if (o.hostname !== undefined && hosts.length > 1) throw new ImageError('--hostname sets one host name; it cannot be used with several hosts');
  return hosts.map((h) => rawFromHost(h, inv, o));
}

/** Without an inventory: one host from flags alone (`--host NAME` names it, --user defaults to pi). */
export function rawFromFlags(name: string, o: ImageOverrides): RawHostImage {
  const h: HostSpec = { name, address: name, port: 22, user: o.user ?? 'pi', agent: false, groups: [], vars: {} };
  return rawFromHost(h, undefined, o);
}
