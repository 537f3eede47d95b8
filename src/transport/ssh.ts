// The SSH transport (node-ssh over ssh2): one connection per host, a few channels at once, every
// call bounded in time, host keys checked against a known_hosts file, and every failure - refused,
// timed out, dropped mid-command - a TransportError for that host, never an uncaught exception.
import { createReadStream, createWriteStream } from 'node:fs';
import type { HostSpec } from '../inventory/types.js';
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './transport.js';
import { authHandler, authMethods } from './ssh-auth.js';
import { addKnownKey, fingerprint, hostKeyAlgorithmsFor, hostPattern, keyTypeOfBlob, knownKeys, removeKnownHost } from './known-hosts.js';
import { Semaphore, shq, wrapCommand, writeFileCommand } from './shell.js';

/** How to reach one host: the inventory host's own fields (name for messages, address, port, user, keys). */
export interface SshTarget extends Pick<HostSpec, 'name' | 'address' | 'port' | 'user' | 'identity' | 'identities' | 'identitiesOnly'> {
  /** use the agent at SSH_AUTH_SOCK */
  agent?: boolean;
  /** reach this host through another one (like ProxyJump) */
  jump?: SshTarget;
}

export interface SshOptions {
  /** .pifarm/known_hosts, or the user's ~/.ssh/known_hosts when asked */
  knownHostsFile: string;
  /** replace a changed host key for this host (the user said --accept-new-key) */
  acceptNewKey?: boolean;
  connectTimeoutMs?: number;
  /** connection attempts after the first, with exponential backoff and jitter */
  retries?: number;
  keepaliveMs?: number;
  /** channels open at once on the connection; OpenSSH allows 10 sessions by default */
  maxChannels?: number;
}

export class HostKeyChangedError extends TransportError {
  constructor(host: string, readonly oldFingerprint: string, readonly newFingerprint: string, message: string) {
    super(host, message);
  }
}

const DEFAULT_EXEC_TIMEOUT = 120_000;

export class SshTransport implements Transport {
  readonly host: string;
  private client: Client | undefined;
  private jump: SshTransport | undefined;
  private connecting: Promise<void> | undefined;
  private readonly channels: Semaphore;
  /** rejecters of calls in flight, failed together when the connection drops */
  private readonly inflight = new Set<(e: Error) => void>();
  /** why the host key check refused the host (ssh2 only reports "verification failed") */
  private keyProblem: HostKeyChangedError | undefined;

  constructor(readonly target: SshTarget, private readonly opts: SshOptions) {
    this.host = target.name;
    this.channels = new Semaphore(opts.maxChannels ?? 4);
  }

  connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connectWithRetries().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectWithRetries(): Promise<void> {
    const retries = this.opts.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.connectOnce();
        return;
      } catch (e) {
        const err = e instanceof TransportError ? e : new TransportError(this.host, describe(e), e);
        // a refused key or a refused login will not get better by retrying
        if (err instanceof HostKeyChangedError || /authentication|All configured/i.test(err.message)) throw err;
        // A server that answered and then closed (sshd restarting, a login being set up, a Wi-Fi
        // blip) is up and worth more patience than one that never answered, whose every attempt
        // costs a whole connect timeout.
        const closedByServer = /No response from server|ECONNRESET|before handshake/i.test(err.message);
        if (attempt >= (closedByServer ? retries + 3 : retries)) throw err;
        const backoff = 300 * 2 ** attempt;
        await new Promise((r) => setTimeout(r, backoff + Math.random() * backoff));
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const t = this.target;
    const pattern = hostPattern(t.address, t.port);
    const known = knownKeys(this.opts.knownHostsFile, pattern);
    this.keyProblem = undefined;
    const config: ConnectConfig & { privateKeyPath?: string } = {
      host: t.address,
      port: t.port,
      username: t.user,
      readyTimeout: this.opts.connectTimeoutMs ?? 10_000,
      keepaliveInterval: this.opts.keepaliveMs ?? 5000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => this.verifyHostKey(key, pattern),
    };
    if (known.length > 0 && !this.opts.acceptNewKey) config.algorithms = { serverHostKey: hostKeyAlgorithmsFor(known.map((k) => k.keyType)) as never };
    if (t.agent && !process.env.SSH_AUTH_SOCK) throw new TransportError(this.host, 'the inventory says agent: true but SSH_AUTH_SOCK is not set (start ssh-agent and ssh-add your key)');
    const auth = authMethods(t, this.host);
    if (auth.keys.length === 1 && !auth.agent) config.privateKeyPath = auth.keys[0];
    else (config as { authHandler: unknown }).authHandler = authHandler(t.user, auth.keys, auth.agent, this.host);
    if (t.jump) {
      this.jump ??= new SshTransport(t.jump, this.opts);
      await this.jump.connect();
      config.sock = await this.jump.forward(t.address, t.port);
      delete config.host;
    }
    const ssh = new NodeSSH();
    try {
      await ssh.connect(config as Parameters<NodeSSH['connect']>[0]);
    } catch (e) {
      if (this.keyProblem) throw this.keyProblem;
      throw new TransportError(this.host, `cannot connect to ${t.user}@${t.address}:${t.port}${t.jump ? ` via ${t.jump.name}` : ''}: ${describe(e)}`, e);
    }
    const client = ssh.connection!;
    // node-ssh drops its error listener once ready: without ours a later error would crash us
    client.on('error', (e: Error) => this.dropped(`connection error: ${describe(e)}`));
    client.on('close', () => this.dropped('connection closed by the host or the network'));
    this.client = client;
  }

  private verifyHostKey(blob: Buffer, pattern: string): boolean {
    const file = this.opts.knownHostsFile;
    const type = keyTypeOfBlob(blob);
    const b64 = blob.toString('base64');
    const known = knownKeys(file, pattern);
    if (known.some((k) => k.keyType === type && k.key === b64)) return true;
    const sameType = known.filter((k) => k.keyType === type);
    if (known.length === 0 || this.opts.acceptNewKey) {
      if (this.opts.acceptNewKey) removeKnownHost(file, pattern);
      addKnownKey(file, pattern, blob);
      return true;
    }
    const old = sameType[0] ?? known[0]!;
    this.keyProblem = new HostKeyChangedError(
      this.host,
      fingerprint(old.key),
      fingerprint(blob),
      `HOST KEY CHANGED for ${this.host} (${pattern}): ${file}:${old.line} has ${old.keyType} ${fingerprint(old.key)}, ` +
        `the host now offers ${type} ${fingerprint(blob)}. Someone may be intercepting the connection, or the host was ` +
        `reinstalled. Refusing it. If you expect the change, run the command again with --accept-new-key ${this.host}, ` +
        `or delete line ${old.line} of ${file}.`,
    );
    return false;
  }

  private dropped(reason: string): void {
    if (!this.client) return;
    this.client = undefined;
    const err = new TransportError(this.host, reason);
    for (const reject of [...this.inflight]) reject(err);
    this.inflight.clear();
  }

  /** A TCP stream to address:port opened through this host (what a jump host gives the next hop). */
  async forward(address: string, port: number): Promise<ClientChannel> {
    await this.connect();
    const client = this.client!;
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, address, port, (err, stream) => {
        if (err) reject(new TransportError(this.host, `cannot forward to ${address}:${port}: ${describe(err)}`, err));
        else resolve(stream);
      });
    });
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(command, opts, opts.stdin === undefined ? undefined : Readable.from([Buffer.from(opts.stdin)]));
  }

  pipeTo(command: string, input: NodeJS.ReadableStream, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(command, opts, input);
  }

  private async run(command: string, opts: ExecOptions, input: NodeJS.ReadableStream | undefined): Promise<ExecResult> {
    await this.connect();
    const full = wrapCommand(command, { cwd: opts.cwd, sudo: opts.sudo, user: this.target.user });
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT;
    return this.channels.use(
      () =>
        new Promise<ExecResult>((resolve, reject) => {
          const client = this.client;
          if (!client) return reject(new TransportError(this.host, 'not connected'));
          let channel: ClientChannel | undefined;
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code = -1;
          let signal: string | undefined;
          let settled = false;
          const finish = (e?: Error) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            this.inflight.delete(fail);
            if (e) {
              try {
                channel?.close();
              } catch {
                /* the channel is gone already */
              }
              reject(e);
            } else {
              const result: ExecResult = { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() };
              if (signal) result.signal = signal;
              resolve(result);
            }
          };
          const fail = (e: Error) => finish(e);
          this.inflight.add(fail);
          const timer = setTimeout(() => {
            try {
              channel?.signal('KILL');
            } catch {
              /* best effort */
            }
            finish(new TransportError(this.host, `command timed out after ${Math.round(timeoutMs / 1000)} s: ${command.slice(0, 120)}`));
          }, timeoutMs);
          client.exec(full, (err, ch) => {
            if (err) return finish(new TransportError(this.host, `cannot run a command: ${describe(err)}`, err));
            channel = ch;
            ch.on('data', (d: Buffer) => {
              out.push(d);
              opts.onStdout?.(d);
            });
            ch.stderr.on('data', (d: Buffer) => {
              errOut.push(d);
              opts.onStderr?.(d);
            });
            ch.on('exit', (c: number | null, sig?: string) => {
              code = c ?? -1;
              if (sig) signal = sig;
            });
            ch.on('close', () => finish());
            ch.on('error', (e: Error) => finish(new TransportError(this.host, `channel error: ${describe(e)}`, e)));
            if (input) {
              input.on('error', (e: Error) => finish(new TransportError(this.host, `local input failed: ${describe(e)}`, e)));
              input.pipe(ch);
            } else ch.end();
          });
        }),
    );
  }

  async putContent(content: string | Buffer, remotePath: string, mode = 0o644): Promise<void> {
    const r = await this.exec(writeFileCommand(remotePath, mode), { stdin: content });
    if (r.code !== 0) throw new TransportError(this.host, `cannot write ${remotePath}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async putFile(localPath: string, remotePath: string, mode = 0o644): Promise<void> {
    const r = await this.pipeTo(writeFileCommand(remotePath, mode), createReadStream(localPath));
    if (r.code !== 0) throw new TransportError(this.host, `cannot write ${remotePath}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async getFile(remotePath: string, localPath: string): Promise<void> {
    const file = createWriteStream(localPath);
    const r = await this.exec(`cat ${shq(remotePath)}`, { onStdout: (d) => file.write(d) });
    await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (r.code !== 0) throw new TransportError(this.host, `cannot read ${remotePath}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    client?.end();
    await this.jump?.close();
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}
