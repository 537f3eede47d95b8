// A Transport that runs nothing: each command is matched against a script of (pattern, result)
// and recorded, so a step's decisions can be tested as data (facts in; outcome and commands out),
// in milliseconds and without root. The virtual-Pi tests remain the integration tests.
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/transport.js';
import type { HostFacts } from '../../src/provision/facts.js';
import type { HostSpec } from '../../src/inventory/types.js';
import type { StepContext } from '../../src/provision/types.js';

export type ScriptLine = [pattern: RegExp, result: Partial<ExecResult>];

export interface Sent {
  command: string;
  sudo: boolean;
  stdin?: string;
}

export class ScriptedTransport implements Transport {
  readonly sent: Sent[] = [];

  constructor(
    readonly host: string,
    private readonly script: ScriptLine[] = [],
  ) {}

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  async exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    this.sent.push({ command, sudo: !!o.sudo, ...(o.stdin !== undefined ? { stdin: o.stdin.toString() } : {}) });
    const line = this.script.find(([p]) => p.test(command));
    // a command the test did not expect fails the step, so an unforeseen action cannot pass unseen
    if (!line) return { code: 127, stdout: '', stderr: `unscripted command: ${command}` };
    return { code: 0, stdout: '', stderr: '', ...line[1] };
  }

  async putFile(_local: string, remote: string): Promise<void> {
    this.sent.push({ command: `put ${remote}`, sudo: false });
  }
  async putContent(content: string | Buffer, remote: string): Promise<void> {
    this.sent.push({ command: `put ${remote}`, sudo: false, stdin: content.toString() });
  }
  async getFile(remote: string): Promise<void> {
    this.sent.push({ command: `get ${remote}`, sudo: false });
  }
  async pipeTo(command: string, _input: NodeJS.ReadableStream, o: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(command, o);
  }

  commands(): string[] {
    return this.sent.map((s) => s.command);
  }
}

/** The facts of a provisioned Raspberry Pi OS host (arm64, node 18, nothing of pifarm's yet), with overrides. */
export function piFacts(o: Partial<HostFacts> = {}, pifarm: Partial<HostFacts['pifarm']> = {}): HostFacts {
  return {
    arch: 'arm64',
    machine: 'aarch64',
    cpu: { arch: 'arm64', model: 'Cortex-A53', features: ['fp', 'asimd', 'crc32'] },
    root: false,
    systemd: true,
    nodePath: '/usr/bin/node',
    nodeMajor: 18,
    nodeVersion: 'v18.20.4',
    dpkg: true,
    zstd: true,
    ufwActive: false,
    nftActive: false,
    osId: 'debian',
    cloudInit: 'absent',
    clockSynced: true,
    ...o,
    pifarm: { releases: [], configs: {}, active: [], user: false, dirs: [], models: [], ...pifarm },
  };
}

export function piHost(vars: Record<string, unknown> = {}): HostSpec {
  return { name: 'pi1', address: '192.0.2.11', port: 22, user: 'pi', agent: false, groups: [], vars };
}

/** A step context on the scripted transport: --check and --offline off unless given. */
export function scriptedContext(t: ScriptedTransport, facts: HostFacts, o: Partial<StepContext> = {}): StepContext {
  return { host: piHost(), t, facts, check: false, offline: false, log: () => {}, plan: { nodes: [], peers: ['192.0.2.1'], ports: [12345] }, ...o };
}
