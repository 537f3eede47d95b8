// Shell quoting and command wrapping shared by the transports: one place decides how a remote
// command is built (cwd, sudo), so ssh and local run exactly the same text.

/** Single-quotes a string for POSIX sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command as the host's shell will run it: in cwd, through sudo when asked and not root. */
export function wrapCommand(command: string, opts: { cwd?: string; sudo?: boolean; user?: string }): string {
  let cmd = opts.cwd ? `cd ${shq(opts.cwd)} && ${command}` : command;
  if (opts.sudo && opts.user !== 'root') cmd = `sudo -n sh -c ${shq(cmd)}`;
  return cmd;
}

/** Writes stdin to `path` atomically (temp file, chmod, rename), creating its folder. */
export function writeFileCommand(path: string, mode: number): string {
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) || '/' : '.';
  const tmp = `${shq(path)}.pifarm-tmp.$$`;
  return `mkdir -p ${shq(dir)} && cat > ${tmp} && chmod ${mode.toString(8)} ${tmp} && mv -f ${tmp} ${shq(path)}`;
}

/** A counting semaphore: at most `max` holders at once (SSH servers cap sessions per connection). */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
