// `pifarm status`: every node unit's state, its restarts, the host's release, and whether the
// node port answers from this machine.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { table } from '../table.js';
import { statusCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm status -i INVENTORY [options]

Per host: its CPU, each node unit's state (systemd) and restart count, the current release,
whether the node's port answers from this machine, and the engine the node really runs (after
it loaded its block and gave the known answer), or why it failed (an engine build that crashes
on this CPU: SIGILL, SIGSEGV; a wrong known answer: exit 5). Exit code 1 when a node is not
running or not answering.

${FARM_HELP}`;

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
    const body = table(['host', 'cpu', 'node', 'state', 'restarts', 'port', 'answers', 'engine', 'release'], rows);
    return printOutcome(r, o.json!, body);
  },
};
