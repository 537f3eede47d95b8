#!/usr/bin/env node
// pifarm's entry point. Every command lives in src/cli/commands/<name>.ts and exports `command`;
// this file only finds it, so commands can be added without touching a shared list.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliCommand } from './command.js';

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

async function loadCommands(): Promise<CliCommand[]> {
  const files = readdirSync(commandsDir).filter((f) => f.endsWith('.js')).sort();
  const out: CliCommand[] = [];
  for (const f of files) {
    const mod = (await import(new URL(`./commands/${f}`, import.meta.url).href)) as { command?: CliCommand };
    if (mod.command) out.push(mod.command);
  }
  return out;
}

function usage(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'pifarm: a farm of Raspberry Pis as one real-time image-recognition pipeline',
    '',
    'usage: pifarm <command> [options]      pifarm <command> --help for its options',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'quick start: pifarm demo   (AlexNet alexnet-6 as local processes, no Pis needed)',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const commands = await loadCommands();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage(commands));
    return name ? 0 : 2;
  }
  if (name === '--version') {
    console.log(process.env.npm_package_version ?? '0.1.0');
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`pifarm: unknown command "${name}"; valid commands: ${commands.map((c) => c.name).join(', ')}`);
    return 2;
  }
  return cmd.run(rest);
}

// (SyntaxError is left out: JSON.parse throws it for a user's malformed file.)
const BUG_ERRORS = [TypeError, RangeError, ReferenceError, EvalError, URIError];

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // pifarm's errors (and plain Errors with a message for the user) print one line; the
    // JavaScript engine's own (a TypeError, a RangeError...) are bugs and show their stack.
    const e = err as Error & { userFacing?: boolean };
    if (e instanceof Error && (e.userFacing || !BUG_ERRORS.some((k) => e instanceof k))) {
      console.error(`pifarm: ${e.message}`);
      if (process.env.PIFARM_DEBUG) console.error(e.stack);
    } else {
      console.error(err);
    }
    process.exitCode = 1;
  },
);
