// The farm commands that only run one phase of steps on every host (deploy, start, stop,
// rollback): the same flags (the farm's, and --check), the same outcome table and exit code.
import { parseFlags, type CliCommand } from './command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from './farm-common.js';
import { simpleCommand } from '../farm/commands.js';

export function stepCommand(name: 'deploy' | 'start' | 'stop' | 'rollback', summary: string, description: string): CliCommand {
  const help = `usage: pifarm ${name} -i INVENTORY [options]

${description}

  --check                 print what would change, change nothing
${FARM_HELP}`;
  return {
    name,
    summary,
    async run(argv) {
      const { values } = parseFlags(argv, { ...FARM_FLAGS, check: { type: 'boolean' } }, help, false);
      const o = farmOptions(values, { check: !!values.check });
      return printOutcome(await simpleCommand(name, o), o.json!);
    },
  };
}
