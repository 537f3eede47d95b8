// Facts about a host, gathered in one round trip: architecture, init system, Node.js, package
// manager, firewall, and the address the host sees the control machine at.
import type { CpuFacts } from '../engine/builds.js';
import type { Arch } from '../inventory/types.js';
import { CPU_SCRIPT, cpuFactsOf } from './cpu-facts.js';
import type { Transport } from '../transport/transport.js';
import { BASE_DIR, CONFIG_DIR, CURRENT_LINK, RELEASE_MARKER, RELEASES_DIR, RUN_USER, SECRET_PATH, UNIT_PATH, MODELS_DIR } from './layout.js';
import { ProvisionError } from './types.js';

export interface HostFacts {
  arch: Arch | 'unknown';
  machine: string;
  /** the CPU an engine build must run on; arch x64 stands in where the architecture is unknown */
  cpu: CpuFacts;
  /** the login user is root (else commands that change the system go through sudo) */
  root: boolean;
  systemd: boolean;
  /** absolute path of node, when present */
  nodePath?: string;
  nodeMajor?: number;
  nodeVersion?: string;
  dpkg: boolean;
  /** of the packages asked about (gatherFacts' packages), those not installed */
  packages?: { checked: string[]; missing: string[] };
  /** zstd is installed (a release can come zstd-compressed) */
  zstd: boolean;
  ufwActive: boolean;
  nftActive: boolean;
  /** the control machine's address as this host sees it (from SSH_CONNECTION), when over SSH */
  controlAddress?: string;
  osId: string;
  /** cloud-init's first boot: still running, done, or absent (no cloud-init, or disabled) */
  cloudInit: 'running' | 'done' | 'absent';
  /** the clock is NTP-synchronised (timedatectl); undefined where the host does not say */
  clockSynced?: boolean;
  /** pifarm's own state on the host, read in the same round trip so a no-change deploy needs no more */
  pifarm: {
    /** release folder name `current` points at */
    current?: string;
    /** release folders completely unpacked */
    releases: string[];
    /** instance -> sha256 of its config file */
    configs: Record<string, string>;
    /** sha256 of the installed unit file */
    unitSha?: string;
    /** sha256 of the farm secret file */
    secretSha?: string;
    /** node unit instances active (or activating) now */
    active: string[];
    /** the run user exists */
    user: boolean;
    /** pifarm's folders that exist */
    dirs: string[];
    /** stage graph files in MODELS_DIR (complete: written under another name, then renamed) */
    models: string[];
  };
}

const SCRIPT = [
  'echo "machine=$(uname -m)"',
  ...CPU_SCRIPT,
  'echo "uid=$(id -u)"',
  'if [ -d /run/systemd/system ]; then echo systemd=1; else echo systemd=0; fi',
  'n=$(command -v node || true); echo "node=$n"; if [ -n "$n" ]; then echo "nodever=$($n --version 2>/dev/null)"; fi',
  'if command -v dpkg >/dev/null; then echo dpkg=1; else echo dpkg=0; fi',
  'command -v zstd >/dev/null && echo zstd=1',
  'if command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q "Status: active"; then echo ufw=1; else echo ufw=0; fi',
  'if command -v systemctl >/dev/null && systemctl is-active --quiet nftables 2>/dev/null; then echo nft=1; else echo nft=0; fi',
  'echo "ssh=${SSH_CONNECTION:-}"',
  '. /etc/os-release 2>/dev/null; echo "os=${ID:-unknown}"',
  // cloud-init's generator marks the boot enabled or disabled; result.json appears when it is done
  'if [ -e /run/cloud-init/result.json ]; then echo cloudinit=done; elif [ -e /run/cloud-init/enabled ]; then echo cloudinit=running; fi',
  'echo "ntp=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)"',
  `echo "current=$(readlink ${CURRENT_LINK} 2>/dev/null)"`,
  `for m in ${RELEASES_DIR}/*/${RELEASE_MARKER}; do [ -f "$m" ] && echo "release=$(basename $(dirname $m))"; done`,
  // the config folder is readable by root and the pifarm group only
  `S=; [ "$(id -u)" = 0 ] || S="sudo -n"; $S sh -c 'for f in ${CONFIG_DIR}/*.json; do [ -f "$f" ] && echo "config=$(sha256sum "$f")"; done; [ -f ${SECRET_PATH} ] && echo "secret=$(sha256sum ${SECRET_PATH} | cut -c1-64)"' 2>/dev/null`,
  `[ -f ${UNIT_PATH} ] && echo "unit=$(sha256sum ${UNIT_PATH} | cut -d' ' -f1)"`,
  `id -u ${RUN_USER} >/dev/null 2>&1 && echo "runuser=1"`,
  `systemctl list-units 'pifarm-node@*' --state=active,activating --plain --no-legend 2>/dev/null | while read u rest; do echo "active=$u"; done`,
  `for d in ${BASE_DIR} ${RELEASES_DIR} ${CONFIG_DIR}; do [ -d $d ] && echo "dir=$d"; done`,
  `for f in ${MODELS_DIR}/*.onnx; do [ -f "$f" ] && echo "model=$(basename $f)"; done`,
  'true',
].join('; ');

export function archOf(machine: string): Arch | 'unknown' {
  if (machine === 'aarch64' || machine === 'arm64') return 'arm64';
  if (machine === 'x86_64' || machine === 'amd64') return 'x64';
  if (/^armv[67]/.test(machine)) return 'armhf';
  return 'unknown';
}

export async function gatherFacts(t: Transport, opts: { packages?: string[] } = {}): Promise<HostFacts> {
  const pk = opts.packages?.filter((p) => /^[a-z0-9][a-z0-9+.-]+$/.test(p)) ?? [];
  const pkScript = pk.length ? `; for p in ${pk.join(' ')}; do dpkg-query -W -f='\${Status}\\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "missing=$p"; done; true` : '';
  const r = await t.exec(SCRIPT + pkScript, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new ProvisionError(`${t.host}: cannot read the host's facts: ${r.stderr.trim() || `exit ${r.code}`}`);
  const pairs = r.stdout
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)
    .filter(([k]) => k);
  const kv = new Map(pairs);
  const configs: Record<string, string> = {};
  for (const [k, v] of pairs) {
    const m = /^([0-9a-f]{64})\s+.*\/([^/]+)\.json$/.exec(v);
    if (k === 'config' && m) configs[m[2]!] = m[1]!;
  }
  const pifarm: HostFacts['pifarm'] = {
    releases: pairs.filter(([k]) => k === 'release').map(([, v]) => v),
    configs,
    user: kv.get('runuser') === '1',
    active: pairs.filter(([k]) => k === 'active').map(([, v]) => /^pifarm-node@(.+)\.service$/.exec(v)?.[1]).filter((x): x is string => !!x),
    dirs: pairs.filter(([k]) => k === 'dir').map(([, v]) => v),
    models: pairs.filter(([k]) => k === 'model').map(([, v]) => v),
  };
  const current = kv.get('current')?.split('/').pop();
  if (current) pifarm.current = current;
  if (kv.get('unit')) pifarm.unitSha = kv.get('unit');
  if (kv.get('secret')) pifarm.secretSha = kv.get('secret');
  const version = kv.get('nodever')?.trim();
  const major = version ? Number(/^v(\d+)/.exec(version)?.[1]) : undefined;
  const machine = kv.get('machine') ?? 'unknown';
  const arch = archOf(machine);
  const facts: HostFacts = {
    arch,
    machine,
    cpu: cpuFactsOf(arch === 'unknown' ? 'x64' : arch, kv),
    root: kv.get('uid') === '0',
    systemd: kv.get('systemd') === '1',
    dpkg: kv.get('dpkg') === '1',
    zstd: kv.get('zstd') === '1',
    ufwActive: kv.get('ufw') === '1',
    nftActive: kv.get('nft') === '1',
    osId: kv.get('os') ?? 'unknown',
    cloudInit: kv.get('cloudinit') === 'running' ? 'running' : kv.get('cloudinit') === 'done' ? 'done' : 'absent',
    pifarm,
  };
  if (pk.length) facts.packages = { checked: pk, missing: pairs.filter(([k]) => k === 'missing').map(([, v]) => v) };
  if (kv.get('node')) facts.nodePath = kv.get('node');
  const ntp = kv.get('ntp');
  if (ntp === 'yes' || ntp === 'no') facts.clockSynced = ntp === 'yes';
  if (version) facts.nodeVersion = version;
  if (major !== undefined && Number.isFinite(major)) facts.nodeMajor = major;
  const ssh = kv.get('ssh')?.split(' ')[0];
  if (ssh) facts.controlAddress = ssh;
  return facts;
}
