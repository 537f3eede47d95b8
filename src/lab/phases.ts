// Runs the steps of a long job in order, each announced, timed and kept for the closing summary.
export class Phases {
  readonly times: [string, number][] = [];
  private readonly t0 = performance.now();

  constructor(private readonly log: (m: string) => void) {}

  async run<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    this.log(`${name} ...`);
    const t = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - t;
      this.times.push([name, ms]);
      this.log(`${name}: ${(ms / 1000).toFixed(1)} s`);
    }
  }

  totalMs(): number {
    return performance.now() - this.t0;
  }

  /** "boot 5 virtual Pis 4.1 s; provision 9.8 s; ..." */
  summary(): string {
    return this.times.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`).join('; ');
  }
}
