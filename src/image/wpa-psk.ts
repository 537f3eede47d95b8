// The WPA pre-shared key as wpa_passphrase computes it, so the image holds the derived key, never
// the passphrase: PBKDF2-HMAC-SHA1(passphrase, ssid, 4096 iterations, 32 bytes), hex.
import { pbkdf2Sync } from 'node:crypto';

export function wpaPsk(passphrase: string, ssid: string): string {
  return pbkdf2Sync(Buffer.from(passphrase, 'utf8'), Buffer.from(ssid, 'utf8'), 4096, 32, 'sha1').toString('hex');
}
