// `pifarm stop`: stop and disable every node unit.
import { stepCommand } from '../step-command.js';

export const command = stepCommand(
  'stop',
  'stop and disable every node unit',
  `Stops and disables every pifarm-node@ unit on the hosts.`,
);
