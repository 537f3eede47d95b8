// `pifarm stop`: stop and disable every node unit.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { simpleCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm stop -i INVENTORY [options]

Stops and disables every pifarm-node@ unit on the hosts.

  --check                 print what would change, change nothing
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'stop',
  summary: 'stop and disable every node unit',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, check: { type: 'boolean' } }, HELP, false);
    const o = farmOptions(values, { check: !!values.check });
    return printOutcome(await simpleCommand('stop', o), o.json!);
  },
};
