// Finding new Pis: SSH hosts that announce themselves by mDNS (`_ssh._tcp.local`, as avahi does
// on Raspberry Pi OS), asked for on one interface or all, answers collected for a few seconds.
// The query is multicast to 224.0.0.251:5353 on the chosen interface only; nothing is sent to any
// host directly.
import { BlockList, isIPv4 } from 'node:net';
import makeMdns from 'multicast-dns';

const SSH_SERVICE = '_ssh._tcp.local';

export interface FoundHost {
  /** the host's own name (its mDNS name without ".local") */
  name: string;
  /** "pi1.local" */
  mdnsName: string;
  address: string;
  port: number;
}

export interface DiscoverOptions {
  /** only hosts whose address lies in this IPv4 CIDR ("192.168.1.0/24") */
  subnet?: string;
  /** the local IPv4 address of the interface to ask on (default: every interface) */
  interface?: string;
  /** how long to listen, ms (default 3000); the question is repeated every second */
  timeoutMs?: number;
}

export class DiscoverError extends Error {
  readonly userFacing = true;
}

/** A CIDR as a BlockList that `check`s addresses; a clear error for anything else. */
export function subnetOf(cidr: string): BlockList {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new DiscoverError(`--subnet: expected an IPv4 network like 192.168.1.0/24, got "${cidr}"`);
  const list = new BlockList();
  list.addSubnet(m[1]!, Number(m[2]), 'ipv4');
  return list;
}

interface Answer {
  name: string;
  type: string;
  data: unknown;
}

/** What a set of mDNS records says about SSH hosts: service instance -> SRV target and port -> A address. */
export function hostsFromRecords(records: Answer[]): FoundHost[] {
  const instances = records.filter((r) => r.type === 'PTR' && r.name.toLowerCase() === SSH_SERVICE).map((r) => String(r.data).toLowerCase());
  const srv = new Map(records.filter((r) => r.type === 'SRV').map((r) => [r.name.toLowerCase(), r.data as { target: string; port: number }]));
  const addr = new Map(records.filter((r) => r.type === 'A').map((r) => [r.name.toLowerCase(), String(r.data)]));
  const out = new Map<string, FoundHost>();
  for (const inst of instances) {
    const s = srv.get(inst);
    if (!s) continue;
    const target = s.target.toLowerCase().replace(/\.$/, '');
    const address = addr.get(target);
    if (!address) continue;
    out.set(`${target}|${address}`, { name: target.replace(/\.local$/, ''), mdnsName: target, address, port: s.port });
  }
  return [...out.values()];
}

/** Asks for `_ssh._tcp.local` and returns the hosts that answered, by name. */
export async function discoverSshHosts(o: DiscoverOptions = {}): Promise<FoundHost[]> {
  const subnet = o.subnet ? subnetOf(o.subnet) : undefined;
  if (o.interface !== undefined && !isIPv4(o.interface)) throw new DiscoverError(`--interface: expected this machine's IPv4 address on the network to search, got "${o.interface}"`);
  // bound to every address: a socket bound to the interface's own address (multicast-dns' default
  // with `interface`) never receives the group's datagrams; `interface` still chooses where the
  // questions go out and which interface joins the group
  const mdns = makeMdns({ ...(o.interface ? { interface: o.interface } : {}), bind: '0.0.0.0', loopback: false, reuseAddr: true });
  const records: Answer[] = [];
  const ask = () => mdns.query({ questions: [{ name: SSH_SERVICE, type: 'PTR' }] });
  try {
    await new Promise<void>((resolve, reject) => {
      mdns.once('ready', () => resolve());
      mdns.once('error', (e: Error) => reject(new DiscoverError(`mDNS on ${o.interface ?? 'every interface'}: ${e.message}`)));
    });
    mdns.on('response', (res: { answers: Answer[]; additionals: Answer[] }) => records.push(...res.answers, ...res.additionals));
    ask();
    const timeoutMs = o.timeoutMs ?? 3000;
    const timer = setInterval(ask, 1000);
    await new Promise((r) => setTimeout(r, timeoutMs));
    clearInterval(timer);
    // an answer that named a service but not its address: ask for the address once
    const found = hostsFromRecords(records);
    const targets = [...new Set(records.filter((r) => r.type === 'SRV').map((r) => (r.data as { target: string }).target))].filter((t) => !found.some((f) => f.mdnsName === t.toLowerCase()));
    if (targets.length) {
      mdns.query({ questions: targets.map((t) => ({ name: t, type: 'A' as const })) });
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    mdns.destroy();
  }
  return hostsFromRecords(records)
    .filter((h) => !subnet || subnet.check(h.address, 'ipv4'))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}
