// `pifarm status`: every node unit's state, its restarts, the host's release, and whether the
// node port answers from this machine.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { table } from '../../report/text-table.js';
import { statusCommand } from '../../farm/commands.js';
import type { Health } from '../../provision/health.js';

const HELP = `usage: pifarm status -i INVENTORY [options]

Per host: its CPU, each node unit's state (systemd) and restart count, the current release,
whether the node's port answers from this machine, and the engine the node really runs (after
it loaded its block and gave the known answer), or why it failed (an engine build that crashes
on this CPU: SIGILL, SIGSEGV; a wrong known answer: exit 5). Then each host's health: SoC
temperature, CPU frequency, load, free memory and disk, clock synchronisation, uptime, and
under-voltage or throttling now and since boot (vcgencmd, or the firmware's sysfs file), with what
is wrong in words. Exit code 1 when a node is not running or not answering.

${FARM_HELP}`;

const opt = (v: number | undefined, f: (x: number) => string) => (v === undefined ? '-' : f(v));

function healthRow(host: string, h: Health): string[] {
  const t = h.throttling;
  const throttled = !t ? '-' : [t.underVoltageNow || t.underVoltageSinceBoot ? 'under-voltage' : '', t.throttledNow || t.throttledSinceBoot || t.freqCappedNow || t.freqCappedSinceBoot ? 'throttled' : ''].filter(Boolean).join(', ') || `no (${t.raw})`;
  return [
    host,
    opt(h.tempC, (c) => `${c.toFixed(1)} °C`),
    opt(h.cpuMHz, (m) => `${m}${h.maxMHz ? `/${h.maxMHz}` : ''}`),
    h.load ? h.load.map((l) => l.toFixed(2)).join(' ') : '-',
    opt(h.memAvailableMb, (m) => `${m} MB`),
    opt(h.diskFreeMb, (m) => `${m} MB`),
    h.clockSynced === undefined ? '-' : h.clockSynced ? 'synced' : 'NOT synced',
    opt(h.uptimeS, (s) => (s >= 86400 ? `${(s / 86400).toFixed(1)} d` : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`)),
    throttled,
  ];
}

export const command: CliCommand = {
  name: 'status',
  summary: 'node units, restarts, release, and whether each node port answers',
  async run(argv) {
    const { values } = parseFlags(argv, FARM_FLAGS, HELP, false);
    const o = farmOptions(values);
    const r = await statusCommand(o);
    const rows = (r.status ?? []).flatMap((h) =>
      h.nodes.length
        ? h.nodes.map((n) => [h.host, h.cpu ?? '-', n.instance, `${n.active}/${n.sub}${n.reason ? ` (${n.reason})` : ''}`, String(n.restarts), `${h.address}:${n.port}`, n.answers ? 'yes' : 'NO', n.engine ?? (n.reason ? `${h.engineBuild ?? '?'} failed` : '-'), h.release ?? '-'])
        : [[h.host, h.cpu ?? '-', '-', h.down ? 'DOWN' : '-', '-', '-', '-', '-', h.release ?? '-']],
    );
    const nodesTable = table(['host', 'cpu', 'node', 'state', 'restarts', 'port', 'answers', 'engine', 'release'], rows);
    const healthy = (r.status ?? []).filter((h) => h.health);
    const healthTable = table(['host', 'temp', 'cpu MHz', 'load', 'mem free', 'disk free', 'clock', 'up', 'throttled'], healthy.map((h) => healthRow(h.host, h.health!)));
    const warnings = healthy.flatMap((h) => h.health!.warnings);
    const body = [nodesTable, '', healthTable, ...(warnings.length ? ['', ...warnings] : [])].join('\n');
    return printOutcome(r, o.json!, body);
  },
};
