// Checks of every per-host setting, run for all hosts before any image is written. Each check
// throws an ImageError that names where the value came from and what a valid one looks like.
import { isIP } from 'node:net';
import { ImageError } from './errors.js';
import { ISO3166_ALPHA2 } from './iso3166.js';

function fail(where: string, msg: string): never {
  throw new ImageError(`${where}: ${msg}`);
}

/** RFC 1123 host name label: what /etc/hostname and cloud-init's hostname accept. */
export function checkHostname(name: string, where: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name) || /^[0-9]+$/.test(name)) {
    fail(where, `"${name}" is not a valid host name (1-63 letters, digits and "-", not starting or ending with "-", not all digits)`);
  }
  return name;
}

/** A Linux login name as useradd accepts by default. */
export function checkUser(name: string, where: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) fail(where, `"${name}" is not a valid user name (lower-case letters, digits, "_" and "-", at most 32, starting with a letter or "_")`);
  if (name === 'root') fail(where, 'the first user may not be "root"');
  return name;
}

export function checkCountry(code: string, where: string): string {
  if (!ISO3166_ALPHA2.has(code)) fail(where, `"${code}" is not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. GB, US, DE, FR)`);
  return code;
}

export function checkSsid(ssid: string, where: string): string {
  const n = Buffer.byteLength(ssid, 'utf8');
  if (n < 1 || n > 32) fail(where, `the Wi-Fi SSID must be 1 to 32 bytes, got ${n}`);
  if (/[\n\r\0"]/.test(ssid)) fail(where, 'the Wi-Fi SSID may not contain a newline, NUL or double quote');
  return ssid;
}

/** WPA2-PSK passphrases are 8..63 printable ASCII characters (IEEE 802.11i). */
export function checkPassphrase(passphrase: string, where: string): string {
  if (passphrase.length < 8 || passphrase.length > 63) fail(where, `the Wi-Fi passphrase must be 8 to 63 characters, got ${passphrase.length}`);
  if (!/^[\x20-\x7e]+$/.test(passphrase)) fail(where, 'the Wi-Fi passphrase must be printable ASCII');
  return passphrase;
}

/** A crypt(3) hash we can hand to chpasswd -e / cloud-init: yescrypt ($y$) or SHA-512 ($6$). */
export function checkPasswordHash(hash: string, where: string): string {
  const sha512 = /^\$6\$(rounds=\d+\$)?[^$:\s]{1,16}\$[./0-9A-Za-z]{86}$/;
  const yescrypt = /^\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]*\$[./0-9A-Za-z]{43}$/;
  if (!sha512.test(hash) && !yescrypt.test(hash)) fail(where, 'the password hash is neither yescrypt ($y$...) nor SHA-512 crypt ($6$...); make one with `mkpasswd -m sha-512` or give passwordEnv');
  return hash;
}

export function checkTimezone(tz: string, where: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    fail(where, `"${tz}" is not a time zone name (e.g. Europe/London, UTC)`);
  }
  if (!/^[A-Za-z0-9_+\-/]+$/.test(tz)) fail(where, `"${tz}" is not a time zone name (e.g. Europe/London, UTC)`);
  return tz;
}

/** An XKB layout name, e.g. "gb", "us", "de" (what /etc/default/keyboard's XKBLAYOUT holds). */
export function checkKeymap(keymap: string, where: string): string {
  if (!/^[a-z]{2,3}(,[a-z]{2,3})*$/.test(keymap)) fail(where, `"${keymap}" is not an XKB keyboard layout (two or three lower-case letters, e.g. gb, us, de)`);
  return keymap;
}

export function checkIpv4Cidr(value: string, where: string): string {
  const m = /^(.+)\/(\d{1,2})$/.exec(value);
  if (!m || isIP(m[1]!) !== 4 || Number(m[2]) < 1 || Number(m[2]) > 32) fail(where, `"${value}" is not an IPv4 address with a prefix length, e.g. 192.168.1.3/24`);
  return value;
}

export function checkIp(value: string, where: string): string {
  if (isIP(value) === 0) fail(where, `"${value}" is not an IP address`);
  return value;
}

const KEY_TYPES = new Set([
  'ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** Reads the SSH wire-format strings of a key blob; throws on a length that runs past the end. */
function sshStrings(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < blob.length) {
    if (off + 4 > blob.length) throw new Error('truncated length');
    const len = blob.readUInt32BE(off);
    off += 4;
    if (off + len > blob.length) throw new Error('field runs past the end');
    out.push(blob.subarray(off, off + len));
    off += len;
  }
  return out;
}

/** An OpenSSH public key line ("type base64 [comment]"); returns it normalised to one line. */
export function checkPublicKey(line: string, where: string): string {
  const parts = line.trim().split(/\s+/);
  const [type, b64] = parts;
  if (!type || !b64 || !KEY_TYPES.has(type)) fail(where, `not an OpenSSH public key (expected "ssh-ed25519 AAAA... comment" or ssh-rsa/ecdsa), got "${line.trim().slice(0, 40)}"`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) fail(where, `the ${type} key's base64 part is not base64`);
  let fields: Buffer[];
  try {
    fields = sshStrings(Buffer.from(b64, 'base64'));
  } catch (e) {
    fail(where, `the ${type} key does not parse: ${(e as Error).message}`);
  }
  if (fields[0]?.toString('latin1') !== type) fail(where, `the key says "${type}" but its data holds "${fields[0]?.toString('latin1') ?? ''}"`);
  const ok =
    type === 'ssh-ed25519' ? fields.length === 2 && fields[1]!.length === 32
    : type === 'ssh-rsa' ? fields.length === 3 && fields[2]!.length >= 128
    : type.startsWith('ecdsa-') ? fields.length === 3 && fields[2]!.length >= 65
    : fields.length >= 2;
  if (!ok) fail(where, `the ${type} key's data has the wrong fields for its type`);
  return parts.join(' ');
}
