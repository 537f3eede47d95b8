// `pifarm start`: start the node units (systemd) of every host.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { simpleCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm start -i INVENTORY [options]

Enables and starts pifarm-node@<role>-<replica>-<shard> for every node process placed on the host;
stops node units the farm no longer places there.

  --check                 print what would change, change nothing
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'start',
  summary: 'start the node units (systemd) of every host',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, check: { type: 'boolean' } }, HELP, false);
    const o = farmOptions(values, { check: !!values.check });
    return printOutcome(await simpleCommand('start', o), o.json!);
  },
};
