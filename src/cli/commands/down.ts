// `pifarm down`: stop the farm (every node unit stopped and disabled).
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { downCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm down -i INVENTORY [options]

Stops and disables every pifarm-node@ unit on the hosts (what pifarm stop does).

${FARM_HELP}`;

export const command: CliCommand = {
  name: 'down',
  summary: 'stop the farm: every node unit stopped and disabled',
  async run(argv) {
    const { values } = parseFlags(argv, FARM_FLAGS, HELP, false);
    const o = farmOptions(values);
    return printOutcome(await downCommand(o), o.json!);
  },
};
