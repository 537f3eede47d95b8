// Facts about a host, gathered in one round trip: architecture, init system, Node.js, package
// manager, firewall, and the address the host sees the control machine at.
import type { Arch } from '../inventory/types.js';
import type { Transport } from '../transport/transport.js';
import { ProvisionError } from './types.js';

export interface HostFacts {
  arch: Arch | 'unknown';
  machine: string;
  /** the login user is root (else commands that change the system go through sudo) */
  root: boolean;
  systemd: boolean;
  /** absolute path of node, when present */
  nodePath?: string;
  nodeMajor?: number;
  nodeVersion?: string;
  dpkg: boolean;
  ufwActive: boolean;
  nftActive: boolean;
  /** the control machine's address as this host sees it (from SSH_CONNECTION), when over SSH */
  controlAddress?: string;
  osId: string;
}

const SCRIPT = [
  'echo "machine=$(uname -m)"',
  'echo "uid=$(id -u)"',
  'if [ -d /run/systemd/system ]; then echo systemd=1; else echo systemd=0; fi',
  'n=$(command -v node || true); echo "node=$n"; if [ -n "$n" ]; then echo "nodever=$($n --version 2>/dev/null)"; fi',
  'if command -v dpkg >/dev/null; then echo dpkg=1; else echo dpkg=0; fi',
  'if command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q "Status: active"; then echo ufw=1; else echo ufw=0; fi',
  'if command -v systemctl >/dev/null && systemctl is-active --quiet nftables 2>/dev/null; then echo nft=1; else echo nft=0; fi',
  'echo "ssh=${SSH_CONNECTION:-}"',
  '. /etc/os-release 2>/dev/null; echo "os=${ID:-unknown}"',
].join('; ');

export function archOf(machine: string): Arch | 'unknown' {
  if (machine === 'aarch64' || machine === 'arm64') return 'arm64';
  if (machine === 'x86_64' || machine === 'amd64') return 'x64';
  if (/^armv[67]/.test(machine)) return 'armhf';
  return 'unknown';
}

export async function gatherFacts(t: Transport): Promise<HostFacts> {
  const r = await t.exec(SCRIPT, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new ProvisionError(`${t.host}: cannot read the host's facts: ${r.stderr.trim() || `exit ${r.code}`}`);
  const kv = new Map(
    r.stdout
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)
      .filter(([k]) => k),
  );
  const version = kv.get('nodever')?.trim();
  const major = version ? Number(/^v(\d+)/.exec(version)?.[1]) : undefined;
  const machine = kv.get('machine') ?? 'unknown';
  const facts: HostFacts = {
    arch: archOf(machine),
    machine,
    root: kv.get('uid') === '0',
    systemd: kv.get('systemd') === '1',
    dpkg: kv.get('dpkg') === '1',
    ufwActive: kv.get('ufw') === '1',
    nftActive: kv.get('nft') === '1',
    osId: kv.get('os') ?? 'unknown',
  };
  if (kv.get('node')) facts.nodePath = kv.get('node');
  if (version) facts.nodeVersion = version;
  if (major !== undefined && Number.isFinite(major)) facts.nodeMajor = major;
  const ssh = kv.get('ssh')?.split(' ')[0];
  if (ssh) facts.controlAddress = ssh;
  return facts;
}
