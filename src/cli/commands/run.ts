// `pifarm run`: stream frames through the started farm from the sender (on this machine), print
// the same report as the demo, with the output check.
import { parseFlags, numberFlag, UsageError, type CliCommand } from '../command.js';
import { FARM_FLAGS, FARM_HELP, farmOptions } from '../farm-common.js';
import { SENDER_FLAGS, SENDER_HELP, senderOptions } from '../sender-flags.js';
import { runCommand } from '../../farm/commands.js';
import { formatRun } from '../format-run.js';

const HELP = `usage: pifarm run -i INVENTORY [options]

Waits for every node port to answer, streams frames from the sender on this machine through the
farm, prints IPS, latency and per-stage figures, and checks sampled outputs against the whole
model in one process (exit code 1 when they differ by more than 1e-4). Nodes that are down do not
stop the run while every stage keeps a complete replica.

  --adapt                 when hosts are down, plan again for the hosts still alive, move the
                          roles there (configs pushed, units restarted), print what moved and the
                          new predicted IPS, then run
  --elastic               the live musical chair: start the topology as a run of its own (one node
                          process per host, units pifarm-node@e<N>-..., the farm's own units left
                          as they are), and while frames flow, when a host is lost (silent 2 s or
                          refusing), answers again, or joins the inventory file (it is provisioned
                          and deployed first), plan again for the hosts there are and move without
                          stopping: the new topology loads beside the old one, which drains. Every
                          move is printed and in --json (moves). Needs farm.sender: local and the
                          release on the hosts (pifarm deploy)

${SENDER_HELP}
${FARM_HELP}`;

export const command: CliCommand = {
  name: 'run',
  summary: 'stream frames through the running farm, report IPS/latency, check outputs',
  async run(argv) {
    const { values } = parseFlags(argv, { ...FARM_FLAGS, ...SENDER_FLAGS, adapt: { type: 'boolean' }, elastic: { type: 'boolean' } }, HELP, false);
    if (values.adapt && values.elastic) throw new UsageError('--adapt re-plans before the run, --elastic during it: choose one');
    const o = farmOptions(values);
    const so = senderOptions(values, o.json ? () => {} : (m) => console.error(`pifarm: ${m}`));
    if (values.elastic) so.elastic = { farm: o };
    const r = await runCommand(o, so, numberFlag(values['ready-timeout'], 'ready-timeout', 120, { min: 1 }) * 1000, !!values.adapt);
    if (o.json) console.log(JSON.stringify(r, null, 2));
    else console.log(formatRun(r.report!, 'the farm'));
    return r.report && r.report.check.ok && r.report.completed > 0 && !r.report.sender.source?.error ? 0 : 1;
  },
};
