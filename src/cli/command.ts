// The shape of a CLI command, and a parseArgs wrapper that turns flag mistakes into clear errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliCommand {
  name: string;
  summary: string;
  /** returns the exit code */
  run(argv: string[]): Promise<number>;
}

export class UsageError extends Error {
  readonly userFacing = true;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking; prints `help` and exits 0 on --help. */
export function parseFlags<O extends Options>(argv: string[], options: O, help: string, allowPositionals = true) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${help}`);
  }
}

/** A flag value as a number, or a UsageError naming the flag. */
export function numberFlag(value: string | undefined, flag: string, dflt: number, opts: { min?: number; integer?: boolean } = {}): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new UsageError(`--${flag}: expected ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}, got "${value}"`);
  }
  return n;
}

/** The named string flags that were given, for option objects that must not hold `undefined`. */
export function pickFlags<K extends string>(values: Partial<Record<K, unknown>>, ...names: K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const n of names) if (typeof values[n] === 'string') out[n] = values[n] as string;
  return out;
}
