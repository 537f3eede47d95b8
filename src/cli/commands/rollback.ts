// `pifarm rollback`: switch hosts back to their previous release and restart their nodes.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { simpleCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm rollback -i INVENTORY [options]

Points 'current' at the release before it (kept by deploy) and restarts the running node units.

  --check                 print what would change, change nothing
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'rollback',
  summary: 'switch hosts back to their previous release and restart their nodes',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, check: { type: 'boolean' } }, HELP, false);
    const o = farmOptions(values, { check: !!values.check });
    return printOutcome(await simpleCommand('rollback', o), o.json!);
  },
};
