// `pifarm logs`: every host's journal for its node units into logs/<run id>/<host>.log.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { logsCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm logs -i INVENTORY [--since TIME] [--follow] [options]

Brings the journal of every host's pifarm-node@ units into logs/<run id>/<host>.log and says how
many lines came from each host.

  --since TIME            what journalctl --since takes: "10 min ago", "2026-11-26 20:00", "@EPOCH"
  --follow                keep following, lines also printed as "host | line"; Ctrl-C ends
  --run-id ID             the folder under logs/ (default: the current time)
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'logs',
  summary: 'fetch every host\'s node journal into logs/<run id>/<host>.log',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, since: { type: 'string' }, follow: { type: 'boolean' }, 'run-id': { type: 'string' } }, HELP, false);
    const o = farmOptions(values);
    const lo: Parameters<typeof logsCommand>[1] = { follow: !!values.follow };
    if (values.since) lo.since = values.since;
    if (values['run-id']) lo.runId = values['run-id'];
    if (values.follow) lo.onLine = (host, line) => console.log(`${host} | ${line}`);
    const r = await logsCommand(o, lo);
    const body = (r.logs ?? []).map((l) => `${l.host}: ${l.lines} line(s) -> ${l.file}`).join('\n');
    return printOutcome(r, o.json!, body);
  },
};
