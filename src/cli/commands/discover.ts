// `pifarm discover`: the SSH hosts on the local network that announce themselves by mDNS (a fresh
// Raspberry Pi OS runs avahi), listed, and with --add appended to an inventory.
import { parseFlags, numberFlag, type CliCommand } from '../command.js';
import { table } from '../../report/text-table.js';
import { discoverSshHosts } from '../../inventory/discover.js';
import { appendHosts } from '../../inventory/append-hosts.js';

const HELP = `usage: pifarm discover [--subnet CIDR] [--interface ADDR] [--timeout S] [--add FILE] [--json]

Asks the local network by mDNS (multicast DNS, what avahi answers on Raspberry Pi OS) for SSH
hosts (_ssh._tcp.local) and lists each one's name, mDNS name, address and port. A Pi whose
image has avahi turned off, or that is on another network segment, does not answer.

  --subnet CIDR      only hosts in this IPv4 network, e.g. 192.168.1.0/24
  --interface ADDR   ask on the interface with this local IPv4 address only (default: every
                     interface)
  --timeout S        how long to listen for answers (default 3)
  --add FILE         append the hosts to this inventory's hosts: (name: address), leaving its
                     other entries, comments and order alone; a host whose address is there
                     already is skipped; the file is created when missing
  --json             the hosts (and what --add did) as JSON`;

export const command: CliCommand = {
  name: 'discover',
  summary: 'find SSH hosts (Pis) on the local network by mDNS; --add appends them to an inventory',
  async run(argv) {
    const { values } = parseFlags(argv, { subnet: { type: 'string' }, interface: { type: 'string' }, timeout: { type: 'string' }, add: { type: 'string' }, json: { type: 'boolean' } }, HELP, false);
    const timeoutMs = numberFlag(values.timeout, 'timeout', 3, { min: 0.5 }) * 1000;
    if (!values.json) console.error(`pifarm: asking ${values.interface ?? 'every interface'} for _ssh._tcp.local for ${timeoutMs / 1000} s ...`);
    const found = await discoverSshHosts({ ...(values.subnet ? { subnet: values.subnet } : {}), ...(values.interface ? { interface: values.interface } : {}), timeoutMs });
    const appended = values.add ? appendHosts(values.add, found) : undefined;
    if (values.json) {
      console.log(JSON.stringify({ hosts: found, ...(appended ? { added: appended.added, alreadyThere: appended.kept, file: values.add } : {}) }, null, 2));
      return 0;
    }
    if (found.length === 0) console.log(`no SSH host answered${values.subnet ? ` in ${values.subnet}` : ''}`);
    else console.log(table(['name', 'mDNS name', 'address', 'port'], found.map((h) => [h.name, h.mdnsName, h.address, String(h.port)])));
    if (appended) {
      console.log(
        appended.added.length
          ? `\n${values.add}: added ${appended.added.map((h) => `${h.name} (${h.address})`).join(', ')}${appended.kept.length ? `; already there: ${appended.kept.join(', ')}` : ''}`
          : `\n${values.add}: nothing to add${appended.kept.length ? ` (already there: ${appended.kept.join(', ')})` : ''}`,
      );
    }
    return 0;
  },
};
