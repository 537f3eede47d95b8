// `pifarm rollback`: switch hosts back to their previous release and restart their nodes.
import { stepCommand } from '../step-command.js';

export const command = stepCommand(
  'rollback',
  'switch hosts back to their previous release and restart their nodes',
  `Points 'current' at the release before it (kept by deploy) and restarts the running node units.`,
);
