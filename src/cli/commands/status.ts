// `pifarm status`: every node unit's state, its restarts, the host's release, and whether the
// node port answers from this machine.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { table } from '../table.js';
import { statusCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm status -i INVENTORY [options]

Per host: each node unit's state (systemd) and restart count, the current release, and whether
the node's port answers from this machine. Exit code 1 when a node is not running or not answering.

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
        ? h.nodes.map((n) => [h.host, n.instance, `${n.active}/${n.sub}`, String(n.restarts), `${h.address}:${n.port}`, n.answers ? 'yes' : 'NO', h.release ?? '-'])
        : [[h.host, '-', h.down ? 'DOWN' : '-', '-', '-', '-', h.release ?? '-']],
    );
    const body = table(['host', 'node', 'state', 'restarts', 'port', 'answers', 'release'], rows);
    return printOutcome(r, o.json!, body);
  },
};
