// `pifarm deploy`: sync the runtime bundle and node configs, restart only what changed.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { simpleCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm deploy -i INVENTORY [options]

Sends the runtime bundle for each host's architecture into releases/<hash> (nothing when the host
has it), switches 'current' atomically, writes each node's config, and restarts the running
units whose code or config changed.

  --check                 print what would change, change nothing
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'deploy',
  summary: 'sync the runtime bundle and node configs, restart only what changed',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, check: { type: 'boolean' } }, HELP, false);
    const o = farmOptions(values, { check: !!values.check });
    return printOutcome(await simpleCommand('deploy', o), o.json!);
  },
};
