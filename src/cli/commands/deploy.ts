// `pifarm deploy`: sync the runtime bundle and node configs, restart only what changed.
import { stepCommand } from '../step-command.js';

export const command = stepCommand(
  'deploy',
  'sync the runtime bundle and node configs, restart only what changed',
  `Sends the runtime bundle for each host's architecture into releases/<hash> (nothing when the host
has it), switches 'current' atomically, writes each node's config, and restarts the running
units whose code or config changed.`,
);
