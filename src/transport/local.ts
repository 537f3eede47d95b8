// The local transport: the Transport interface over child_process, for hosts that are the control
// machine itself (inventory/local.yaml). Same command text as over SSH (shell.ts), same errors.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, chmod, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './transport.js';
import { wrapCommand } from './shell.js';

export class LocalTransport implements Transport {
  constructor(readonly host: string = 'local') {}

  async connect(): Promise<void> {}

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(command, opts, opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
  }

  pipeTo(command: string, input: NodeJS.ReadableStream, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(command, opts, input);
  }

  private run(command: string, opts: ExecOptions, input: Buffer | NodeJS.ReadableStream | undefined): Promise<ExecResult> {
    const user = process.getuid?.() === 0 ? 'root' : 'user';
    const full = wrapCommand(command, { cwd: opts.cwd, sudo: opts.sudo, user });
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', full], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let settled = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        settle(new TransportError(this.host, `command timed out after ${Math.round(timeoutMs / 1000)} s: ${command.slice(0, 120)}`));
      }, timeoutMs);
      const settle = (e: Error | undefined, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(result!);
      };
      child.stdout.on('data', (d: Buffer) => {
        out.push(d);
        opts.onStdout?.(d);
      });
      child.stderr.on('data', (d: Buffer) => {
        err.push(d);
        opts.onStderr?.(d);
      });
      // a command that exits without reading all its input is not an error of ours
      child.stdin.on('error', () => {});
      child.on('error', (e) => settle(new TransportError(this.host, `cannot run a command: ${e.message}`, e)));
      child.on('close', (code, signal) => {
        const r: ExecResult = { code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
        if (signal) r.signal = signal;
        settle(undefined, r);
      });
      if (input === undefined) child.stdin.end();
      else if (Buffer.isBuffer(input)) child.stdin.end(input);
      else {
        input.on('error', (e: Error) => settle(new TransportError(this.host, `local input failed: ${e.message}`, e)));
        input.pipe(child.stdin);
      }
    });
  }

  async putContent(content: string | Buffer, remotePath: string, mode = 0o644): Promise<void> {
    try {
      await mkdir(dirname(remotePath), { recursive: true });
      const tmp = `${remotePath}.pifarm-tmp.${process.pid}`;
      await writeFile(tmp, content, { mode });
      await chmod(tmp, mode);
      await rename(tmp, remotePath);
    } catch (e) {
      throw new TransportError(this.host, `cannot write ${remotePath}: ${(e as Error).message}`, e);
    }
  }

  async putFile(localPath: string, remotePath: string, mode = 0o644): Promise<void> {
    try {
      await mkdir(dirname(remotePath), { recursive: true });
      await copyFile(localPath, remotePath);
      await chmod(remotePath, mode);
    } catch (e) {
      throw new TransportError(this.host, `cannot copy ${localPath} to ${remotePath}: ${(e as Error).message}`, e);
    }
  }

  async getFile(remotePath: string, localPath: string): Promise<void> {
    try {
      await mkdir(dirname(localPath), { recursive: true });
      await copyFile(remotePath, localPath);
    } catch (e) {
      throw new TransportError(this.host, `cannot read ${remotePath}: ${(e as Error).message}`, e);
    }
  }

  async close(): Promise<void> {}
}
