// `pifarm up`: provision + deploy + start + run + logs, in one command.
import { parseFlags, numberFlag, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions, formatOutcome } from '../farm-common.js';
import { SENDER_FLAGS, SENDER_HELP, senderOptions } from '../sender-flags.js';
import { upCommand } from '../../farm/commands.js';
import { formatRun } from '../format-run.js';

const HELP = `usage: pifarm up -i INVENTORY [options]

Provisions every host, deploys the runtime bundle and node configs, starts the node units,
streams frames from the sender on this machine with the output check, and fetches every host's
node logs into logs/<run id>/. A failed host never stops the others; exit code 1 when any failed.

  --offline               never install packages (hosts without internet)
  --check                 print what would change, change nothing (no run)
${SENDER_HELP}
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'up',
  summary: 'provision + deploy + start + run + logs',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, ...SENDER_FLAGS, offline: { type: 'boolean' }, check: { type: 'boolean' } }, HELP, false);
    const o = farmOptions(values, { offline: !!values.offline, check: !!values.check });
    const so = senderOptions(values, o.json ? () => {} : (m) => console.error(`pifarm: ${m}`));
    const r = await upCommand(o, so, numberFlag(values['ready-timeout'], 'ready-timeout', 120, { min: 1 }) * 1000);
    if (o.json) console.log(JSON.stringify(r, null, 2));
    else {
      if (r.report) console.log(formatRun(r.report, 'the farm') + '\n');
      if (r.runError) console.log(`run: ${r.runError}\n`);
      if (r.logs) console.log(r.logs.map((l) => `logs: ${l.host}: ${l.lines} line(s) -> ${l.file}`).join('\n') + '\n');
      console.log(formatOutcome(r));
    }
    const runOk = o.check || (r.report !== undefined && r.report.check.ok && r.report.completed > 0);
    return r.failed.length === 0 && runOk ? 0 : 1;
  },
};
