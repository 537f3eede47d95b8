// The Transport interface: how the control machine acts on one host. Two implementations:
// ssh (node-ssh, for Pis and virtual Pis) and local (child_process, for inventory/local.yaml).
// Every call is bounded in time; a lost connection becomes an error for that host, never an
// uncaught exception.

export interface ExecOptions {
  /** milliseconds; default 120 s */
  timeoutMs?: number;
  cwd?: string;
  stdin?: string | Buffer;
  /** streamed output, as it arrives */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** run with sudo when the login user is not root */
  sudo?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  signal?: string;
}

export interface Transport {
  /** the host's inventory name */
  readonly host: string;
  connect(): Promise<void>;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  putFile(localPath: string, remotePath: string, mode?: number): Promise<void>;
  putContent(content: string | Buffer, remotePath: string, mode?: number): Promise<void>;
  getFile(remotePath: string, localPath: string): Promise<void>;
  /** streams `input` (e.g. a gzip tar) to `command`'s stdin; returns its result */
  pipeTo(command: string, input: NodeJS.ReadableStream, opts?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** The key files in ~/.ssh that ssh tries when it is given none (ssh(1), -i). */
export const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export class TransportError extends Error {
  constructor(
    readonly host: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`${host}: ${message}`);
  }
}
