// The shared Wi-Fi medium of the paper (one 300 Mbit/s 802.11n router for all devices), emulated on
// the virtual Pis' bridge. Wi-Fi is one shared medium: every frame any device sends uses the same
// airtime. So all traffic entering the bridge (from every port, and from the host itself) is
// redirected into one IFB device, and the rate limit (plus delay and loss, where the kernel has
// sch_netem) sits on that one queue. A per-port limit would give every device its own 300 Mbit/s.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NetEmulation {
  /** the bridge whose ports are the emulated devices, e.g. pfbr0 */
  bridge: string;
  rateMbit: number;
  delayMs: number;
  lossPct: number;
}

export const WIFI_DEFAULTS: Omit<NetEmulation, 'bridge'> = { rateMbit: 300, delayMs: 3, lossPct: 0 };

export class NetEmulationError extends Error {}

/** The IFB device that carries the shared queue of `bridge` (names are at most 15 characters). */
export function ifbName(bridge: string): string {
  return `pfemifb-${bridge}`.slice(0, 15);
}

export function checkNetEmulation(n: NetEmulation): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n.bridge)) throw new NetEmulationError(`bridge name "${n.bridge}" is not an interface name`);
  if (!(n.rateMbit > 0)) throw new NetEmulationError(`rate must be > 0 Mbit/s, got ${n.rateMbit}`);
  if (!(n.delayMs >= 0)) throw new NetEmulationError(`delay must be >= 0 ms, got ${n.delayMs}`);
  if (!(n.lossPct >= 0 && n.lossPct < 100)) throw new NetEmulationError(`loss must be in [0, 100) %, got ${n.lossPct}`);
}

/** The queue on the IFB: netem (rate, delay, loss) where available, else htb (rate only). */
export function shapingCommands(n: NetEmulation, netem: boolean): string[][] {
  const dev = ifbName(n.bridge);
  if (netem) {
    const args = ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'netem', 'rate', `${n.rateMbit}mbit`, 'limit', '10000'];
    if (n.delayMs > 0) args.push('delay', `${n.delayMs}ms`);
    if (n.lossPct > 0) args.push('loss', `${n.lossPct}%`);
    return [args];
  }
  return [
    ['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10', 'r2q', '1000'],
    ['tc', 'class', 'replace', 'dev', dev, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${n.rateMbit}mbit`, 'ceil', `${n.rateMbit}mbit`],
  ];
}

/** Redirects a device's traffic into the IFB: ingress of a bridge port, egress of the bridge. */
export function redirectCommands(dev: string, direction: 'ingress' | 'egress', ifb: string): string[][] {
  return [
    ['tc', 'qdisc', 'replace', 'dev', dev, 'clsact'],
    ['tc', 'filter', 'add', 'dev', dev, direction, 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb],
  ];
}

/** Every command of the emulation, in order, for a bridge with these ports. */
export function applyCommands(n: NetEmulation, ports: string[], netem: boolean): string[][] {
  checkNetEmulation(n);
  const ifb = ifbName(n.bridge);
  return [
    ['ip', 'link', 'add', ifb, 'type', 'ifb'],
    ['ip', 'link', 'set', ifb, 'up'],
    ...shapingCommands(n, netem),
    ...ports.flatMap((p) => redirectCommands(p, 'ingress', ifb)),
    ...redirectCommands(n.bridge, 'egress', ifb),
  ];
}

export function nftTable(bridge: string): string {
  return `pfem_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * Random loss without sch_netem: an nftables bridge table dropping that share of the frames the
 * bridge's ports send to each other, to the host and from the host (each frame passes exactly one
 * of the forward, input and output hooks). Matched by port name, so other bridges are untouched.
 */
export function lossRuleset(bridge: string, ports: string[], lossPct: number): string {
  const set = `{ ${ports.map((p) => `"${p}"`).join(', ')} }`;
  const drop = `numgen random mod 10000 < ${Math.round(lossPct * 100)} drop`;
  return [
    `table bridge ${nftTable(bridge)} {`,
    `  chain pfem_forward { type filter hook forward priority 0; policy accept; iifname ${set} ${drop}; }`,
    `  chain pfem_input { type filter hook input priority 0; policy accept; iifname ${set} ${drop}; }`,
    `  chain pfem_output { type filter hook output priority 0; policy accept; oifname ${set} ${drop}; }`,
    '}',
    '',
  ].join('\n');
}

export function removeCommands(bridge: string, ports: string[]): string[][] {
  return [...ports, bridge]
    .map((d) => ['tc', 'qdisc', 'del', 'dev', d, 'clsact'])
    .concat([['ip', 'link', 'del', ifbName(bridge)], ['nft', 'delete', 'table', 'bridge', nftTable(bridge)]]);
}

export interface RunOptions {
  /** run the commands inside this network namespace (tests use their own) */
  netns?: string;
}

function run(argv: string[], opts: RunOptions): Promise<{ ok: boolean; stderr: string; stdout: string }> {
  const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
  return new Promise((resolve) => {
    execFile(full[0]!, full.slice(1), { timeout: 15_000 }, (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr: stderr.trim() || (err ? err.message : '') }));
  });
}

async function must(argv: string[], opts: RunOptions): Promise<string> {
  const r = await run(argv, opts);
  if (!r.ok) throw new NetEmulationError(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The ports (enslaved interfaces) of a bridge. */
export async function bridgePorts(bridge: string, opts: RunOptions = {}): Promise<string[]> {
  const out = await must(['ip', '-o', 'link', 'show', 'master', bridge], opts);
  return out
    .split('\n')
    .map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

export interface ApplyResult {
  ports: string[];
  netem: boolean;
  commands: string[][];
  warnings: string[];
}

/**
 * Applies the shared-medium emulation to the bridge's current ports (apply again after adding
 * hosts). Where the kernel lacks sch_netem, the rate still applies and delay/loss are reported as
 * not applied.
 */
export async function applyNetEmulation(n: NetEmulation, opts: RunOptions = {}): Promise<ApplyResult> {
  checkNetEmulation(n);
  await must(['ip', 'link', 'show', n.bridge], opts).catch(() => {
    throw new NetEmulationError(`no bridge "${n.bridge}"${opts.netns ? ` in netns ${opts.netns}` : ''}; start the virtual Pis first`);
  });
  await removeNetEmulation(n.bridge, opts);
  const ports = await bridgePorts(n.bridge, opts);
  const ifb = ifbName(n.bridge);
  const warnings: string[] = [];
  const commands: string[][] = [];
  const step = async (argv: string[]) => {
    commands.push(argv);
    await must(argv, opts);
  };
  try {
    await step(['ip', 'link', 'add', ifb, 'type', 'ifb']);
    await step(['ip', 'link', 'set', ifb, 'up']);
    const [netemCmd] = shapingCommands(n, true);
    const tried = await run(netemCmd!, opts);
    const netem = tried.ok;
    if (netem) commands.push(netemCmd!);
    else {
      for (const c of shapingCommands(n, false)) await step(c);
      if (n.delayMs > 0) warnings.push(`delay ${n.delayMs} ms not applied: this kernel has no sch_netem (${tried.stderr}); rate${n.lossPct > 0 ? ' and loss' : ''} apply`);
      if (n.lossPct > 0 && ports.length > 0) {
        const dir = mkdtempSync(join(tmpdir(), 'pfem-nft-'));
        try {
          writeFileSync(join(dir, 'loss.nft'), lossRuleset(n.bridge, ports, n.lossPct));
          await step(['nft', '-f', join(dir, 'loss.nft')]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    for (const p of ports) for (const c of redirectCommands(p, 'ingress', ifb)) await step(c);
    for (const c of redirectCommands(n.bridge, 'egress', ifb)) await step(c);
    return { ports, netem, commands, warnings };
  } catch (e) {
    await removeNetEmulation(n.bridge, opts);
    throw e;
  }
}

/** Removes the emulation from the bridge and its ports; quiet where there is nothing to remove. */
export async function removeNetEmulation(bridge: string, opts: RunOptions = {}): Promise<void> {
  const ports = await bridgePorts(bridge, opts).catch(() => [] as string[]);
  for (const c of removeCommands(bridge, ports)) await run(c, opts);
}
