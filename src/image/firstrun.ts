// firstrun.sh for Raspberry Pi OS Bookworm (and Bullseye): run once by systemd.run on first boot,
// the way Raspberry Pi Imager does it. It prefers raspberrypi-sys-mods' imager_custom and
// userconf-pi's userconf where the image has them, with plain fallbacks where it does not.
// POSIX sh only, so `sh -n` and shellcheck both accept it.
import { PIFARM_MARK } from './cloud-init.js';
import { shq } from '../transport/shell.js';
import type { HostImage } from './settings.js';

const IC = '/usr/lib/raspberrypi-sys-mods/imager_custom';

export function firstrunScript(h: HostImage): string {
  const L: string[] = [];
  const u = h.user;
  L.push('#!/bin/sh', `# ${PIFARM_MARK} for host ${h.hostname}; deletes itself after the first boot`, '', 'set +e', '');

  L.push('CURRENT_HOSTNAME=$(tr -d " \\t\\n\\r" </etc/hostname)');
  L.push(`if [ -f ${IC} ]; then`, `   ${IC} set_hostname ${shq(h.hostname)}`, 'else');
  L.push(`   echo ${shq(h.hostname)} >/etc/hostname`);
  L.push(`   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t"${shq(h.hostname)}"/g" /etc/hosts`, 'fi');

  L.push('FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)', 'FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)');
  const keys = h.authorizedKeys.map(shq).join(' ');
  L.push(`if [ -f ${IC} ]; then`);
  // one call with every key: imager_custom writes authorized_keys from its arguments, replacing it
  L.push(`   ${IC} enable_ssh -k ${keys}`);
  L.push('else');
  L.push('   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"');
  L.push(`   printf '%s\\n' ${keys} >"$FIRSTUSERHOME/.ssh/authorized_keys"`);
  L.push('   chown "$FIRSTUSER:" "$FIRSTUSERHOME/.ssh/authorized_keys"', '   chmod 600 "$FIRSTUSERHOME/.ssh/authorized_keys"');
  L.push("   echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config", '   systemctl enable ssh', 'fi');

  // userconf renames the first user and sets the hash; "!" locks the password (key-only login)
  L.push('# shellcheck disable=SC2016 # a crypt hash: its "$" are literal', `PWHASH=${shq(h.passwordHash ?? '!')}`);
  L.push('if [ -f /usr/lib/userconf-pi/userconf ]; then', `   /usr/lib/userconf-pi/userconf ${shq(u)} "$PWHASH"`, 'else');
  L.push('   echo "$FIRSTUSER:$PWHASH" | chpasswd -e');
  L.push(`   if [ "$FIRSTUSER" != ${shq(u)} ]; then`);
  L.push(`      usermod -l ${shq(u)} "$FIRSTUSER"`, `      usermod -m -d /home/${u} ${shq(u)}`, `      groupmod -n ${shq(u)} "$FIRSTUSER"`);
  L.push('      if [ -f /etc/sudoers.d/010_pi-nopasswd ]; then', `         sed -i "s/^$FIRSTUSER /${u} /" /etc/sudoers.d/010_pi-nopasswd`, '      fi');
  L.push('   fi', 'fi');

  if (h.wifi) {
    const w = h.wifi;
    L.push(`if [ -f ${IC} ]; then`, `   ${IC} set_wlan ${shq(w.ssid)} ${shq(w.psk)} ${shq(w.country)}`, 'else');
    L.push("cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'");
    L.push(`country=${w.country}`, 'ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev', 'ap_scan=1', 'update_config=1', 'network={', `\tssid="${w.ssid}"`, `\tpsk=${w.psk}`, '}', 'WPAEOF');
    L.push('   chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf', '   rfkill unblock wifi');
    L.push('   for filename in /var/lib/systemd/rfkill/*:wlan; do', '      [ -e "$filename" ] && echo 0 >"$filename"', '   done', 'fi');
  }

  if (h.staticNet) {
    const s = h.staticNet;
    // Bookworm: NetworkManager keyfile; older releases: dhcpcd
    L.push('if [ -d /etc/NetworkManager/system-connections ]; then');
    L.push("cat >/etc/NetworkManager/system-connections/pifarm-eth0.nmconnection <<'NMEOF'");
    L.push('[connection]', 'id=pifarm-eth0', 'type=ethernet', 'interface-name=eth0', 'autoconnect=true', '', '[ipv4]', 'method=manual');
    L.push(`address1=${s.address}${s.gateway ? `,${s.gateway}` : ''}`);
    if (s.dns.length > 0) L.push(`dns=${s.dns.join(';')};`);
    L.push('', '[ipv6]', 'method=auto', 'NMEOF');
    L.push('   chmod 600 /etc/NetworkManager/system-connections/pifarm-eth0.nmconnection');
    L.push('elif [ -f /etc/dhcpcd.conf ]; then', "cat >>/etc/dhcpcd.conf <<'DHCPEOF'", 'interface eth0', `static ip_address=${s.address}`);
    if (s.gateway) L.push(`static routers=${s.gateway}`);
    if (s.dns.length > 0) L.push(`static domain_name_servers=${s.dns.join(' ')}`);
    L.push('DHCPEOF', 'fi');
  }

  if (h.keymap || h.timezone) {
    L.push(`if [ -f ${IC} ]; then`);
    if (h.keymap) L.push(`   ${IC} set_keymap ${shq(h.keymap)}`);
    if (h.timezone) L.push(`   ${IC} set_timezone ${shq(h.timezone)}`);
    L.push('else');
    if (h.timezone) L.push('   rm -f /etc/localtime', `   echo ${shq(h.timezone)} >/etc/timezone`, '   dpkg-reconfigure -f noninteractive tzdata');
    if (h.keymap) {
      L.push("cat >/etc/default/keyboard <<'KBEOF'", 'XKBMODEL="pc105"', `XKBLAYOUT="${h.keymap}"`, 'XKBVARIANT=""', 'XKBOPTIONS=""', 'KBEOF');
      L.push('   dpkg-reconfigure -f noninteractive keyboard-configuration');
    }
    L.push('fi');
  }

  // Bookworm mounts the boot partition at /boot/firmware, older releases at /boot
  L.push('for d in /boot/firmware /boot; do', '   if [ -f "$d/cmdline.txt" ]; then', '      rm -f "$d/firstrun.sh"', `      sed -i 's| systemd.run.*||g' "$d/cmdline.txt"`, '   fi', 'done');
  L.push('exit 0', '');
  return L.join('\n');
}
