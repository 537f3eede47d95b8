// `pifarm provision`: prepare hosts: packages, Node.js, user and folders, firewall ports, the systemd unit.
import { parseFlags, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, printOutcome } from '../farm-common.js';
import { simpleCommand } from '../../farm/commands.js';

const HELP = `usage: pifarm provision -i INVENTORY [options]

Checks each host's facts and changes only what differs: Debian packages (waiting for the dpkg lock),
Node.js >= 18, the pifarm user and folders, firewall rules for the node ports (farm hosts only),
and the pifarm-node@.service unit.

  --check                 print what would change, change nothing
  --offline               never install packages (hosts without internet); fail naming what is missing
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'provision',
  summary: 'prepare hosts: packages, Node.js, user and folders, firewall ports, the systemd unit',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, check: { type: 'boolean' }, offline: { type: 'boolean' } }, HELP, false);
    const o = farmOptions(values, { check: !!values.check, offline: !!values.offline });
    return printOutcome(await simpleCommand('provision', o), o.json!);
  },
};
