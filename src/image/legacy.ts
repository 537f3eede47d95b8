// The oldest headless mechanism Raspberry Pi OS understands: an empty `ssh` file enables sshd,
// `userconf.txt` (user:hash) creates the first user, `wpa_supplicant.conf` is moved into /etc.
// It cannot set a host name, a key, a time zone or a static address.
import { ImageError } from './errors.js';
import type { HostImage } from './settings.js';

export function legacyFiles(h: HostImage): { path: string; data: string }[] {
  if (h.passwordHash === undefined) {
    throw new ImageError(`host ${h.hostname}: this image only takes the legacy ssh + userconf.txt format, which cannot install an SSH key, so a locked password would lock you out; give a password (passwordEnv or passwordHash) or use --format firstrun`);
  }
  const files = [
    { path: '/ssh', data: '' },
    { path: '/userconf.txt', data: `${h.user}:${h.passwordHash}\n` },
  ];
  if (h.wifi) {
    files.push({
      path: '/wpa_supplicant.conf',
      data: `country=${h.wifi.country}\nctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\nupdate_config=1\n\nnetwork={\n\tssid="${h.wifi.ssid}"\n\tpsk=${h.wifi.psk}\n}\n`,
    });
  }
  return files;
}

/** Settings the legacy format silently cannot carry, so prep can warn about them. */
export function legacyIgnored(h: HostImage): string[] {
  const out = ['hostname', 'authorized key'];
  if (h.timezone) out.push('timezone');
  if (h.keymap) out.push('keymap');
  if (h.staticNet) out.push('static address');
  return out;
}
