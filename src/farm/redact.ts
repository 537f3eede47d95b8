// Redaction of secrets in text that leaves a host (journal lines brought back by `pifarm logs`).
// Secrets never belong in logs, but a unit's environment, a shell trace or a crashing tool can
// print one; what we know to be secret is cut out before a line is written or printed:
//   - the farm secret (hex);
//   - the values of the environment variables the inventory names for passwords and Wi-Fi
//     passphrases (hosts.*.image.passwordEnv / wifi.passphraseEnv), when set here;
//   - anything after a key that says it is secret (password=, passphrase: , psk=, secret=, token=),
//     and a crypt(3) password hash ($6$..., $y$...), whatever their value.
import type { HostsInventory } from '../inventory/types.js';

export const REDACTED = '[redacted]';

/** The secret strings of a farm: its secret and the inventory's secret environment variables. */
export function farmSecrets(inv: HostsInventory | undefined, farmSecretHex: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set<string>();
  if (farmSecretHex) out.add(farmSecretHex);
  for (const h of inv?.hosts ?? []) {
    for (const name of [h.image?.passwordEnv, h.image?.wifi?.passphraseEnv]) {
      const v = name ? env[name] : undefined;
      if (v) out.add(v);
    }
    if (h.image?.passwordHash) out.add(h.image.passwordHash);
  }
  // Short values would redact ordinary words; a password that short is not worth hiding here.
  return [...out].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
}

// key, separator, then a value that is not itself the next "key: " (as in "chpasswd: password: x")
const KEYED = /\b((?:[\w-]*(?:password|passwd|passphrase|psk|secret|token))["']?\s*[:=]\s*["']?)(?![\w-]*:\s)([^\s"',;]+)/gi;
const CRYPT_HASH = /\$(?:6|5|y|2[aby])\$[^\s"':]{8,}/g;

/** A line with every known secret and every keyed or hashed secret replaced by [redacted]. */
export function redactor(secrets: string[]): (line: string) => string {
  return (line) => {
    let out = line;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out.replace(KEYED, (_m, key: string, value: string) => (value === REDACTED ? key + value : key + REDACTED)).replace(CRYPT_HASH, REDACTED);
  };
}
