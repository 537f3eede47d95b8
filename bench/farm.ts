// `npm run bench -- farm ...`: the same as `pifarm bench farm ...` (src/cli/commands/bench.ts), run as the CLI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export async function run(argv: string[]): Promise<void> {
  const r = spawnSync(process.execPath, [CLI, 'bench', 'farm', ...argv], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
