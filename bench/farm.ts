// `npm run bench -- farm ...`: the same as `pifarm bench farm ...` (see src/cli/commands/bench.ts).
import { command } from '../src/cli/commands/bench.js';

export async function run(argv: string[]): Promise<void> {
  process.exitCode = await command.run(['farm', ...argv]);
}
