// `pifarm start`: start the node units (systemd) of every host.
import { stepCommand } from '../step-command.js';

export const command = stepCommand(
  'start',
  'start the node units (systemd) of every host',
  `Enables and starts pifarm-node@<role>-<replica>-<shard> for every node process placed on the host;
stops node units the farm no longer places there.`,
);
