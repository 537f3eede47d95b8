// cloud-init NoCloud seed files for the boot partition (Raspberry Pi OS from late 2025, Ubuntu
// Server for the Pi): user-data, meta-data and a netplan v2 network-config. No `packages:`, so the
// first boot needs no network to finish.
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { HostImage } from './settings.js';

export type CloudOs = 'raspios' | 'ubuntu';

const GROUPS: Record<CloudOs, string[]> = {
  // The groups Raspberry Pi OS gives its first user (pi-gen's FIRST_USER_GROUPS).
  raspios: ['users', 'adm', 'dialout', 'audio', 'netdev', 'video', 'plugdev', 'cdrom', 'games', 'input', 'gpio', 'spi', 'i2c', 'render', 'sudo'],
  ubuntu: ['adm', 'dialout', 'cdrom', 'sudo', 'audio', 'video', 'plugdev', 'netdev', 'users'],
};

export const PIFARM_MARK = 'written by pifarm image prep';

export function userData(h: HostImage, os: CloudOs): string {
  const user: Record<string, unknown> = {
    name: h.user,
    groups: GROUPS[os],
    shell: '/bin/bash',
    sudo: 'ALL=(ALL) NOPASSWD:ALL',
    lock_passwd: h.passwordHash === undefined,
  };
  if (h.passwordHash !== undefined) user.passwd = h.passwordHash;
  user.ssh_authorized_keys = h.authorizedKeys;
  const doc: Record<string, unknown> = {
    hostname: h.hostname,
    manage_etc_hosts: true,
    user,
    // keys only over SSH: the farm's key is always installed; a password is for the console and sudo
    ssh_pwauth: false,
  };
  if (h.timezone) doc.timezone = h.timezone;
  if (h.keymap) doc.keyboard = { model: 'pc105', layout: h.keymap };
  doc.runcmd = [['systemctl', 'enable', '--now', 'ssh']];
  return `#cloud-config\n# ${PIFARM_MARK} for host ${h.hostname}\n${stringify(doc, { lineWidth: 0 })}`;
}

/** A fresh instance-id makes cloud-init treat the card as a new instance and apply user-data. */
export function newInstanceId(hostname: string): string {
  return `pifarm-${hostname}-${randomBytes(4).toString('hex')}`;
}

export function metaData(h: HostImage, instanceId: string): string {
  return stringify({ 'instance-id': instanceId, 'local-hostname': h.hostname });
}

export function networkConfig(h: HostImage): string {
  const eth0: Record<string, unknown> = { optional: true };
  if (h.staticNet) {
    eth0.dhcp4 = false;
    eth0.addresses = [h.staticNet.address];
    if (h.staticNet.gateway) eth0.routes = [{ to: 'default', via: h.staticNet.gateway }];
    if (h.staticNet.dns.length > 0) eth0.nameservers = { addresses: h.staticNet.dns };
  } else {
    eth0.dhcp4 = true;
  }
  const network: Record<string, unknown> = { version: 2, ethernets: { eth0 } };
  if (h.wifi) {
    network.wifis = {
      wlan0: {
        dhcp4: true,
        optional: true,
        'regulatory-domain': h.wifi.country,
        // 64 hex digits: netplan writes it to wpa_supplicant as the PSK itself, not a passphrase
        'access-points': { [h.wifi.ssid]: { password: h.wifi.psk } },
      },
    };
  }
  return `# ${PIFARM_MARK} for host ${h.hostname}\n${stringify({ network }, { lineWidth: 0 })}`;
}
