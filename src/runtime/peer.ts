// A persistent Avro IPC connection to another node (or to the sender's result port): one TCP
// connection, one stateful avsc channel, frames sent as one-way `forward` messages. Connects on
// first use and again after a failure (no more often than every RETRY_MS; frames sent while it is
// down are counted as failed, the pipeline does not stall on them).
import { connect, type Socket } from 'node:net';
import type { Service } from 'avsc';
import type { Endpoint } from './config.js';
import { authenticateServer } from './auth.js';
import { PacketDecoder, PacketEncoder } from './framing.js';
import { service, type Frame, type NodeStats } from './protocol.js';

const RETRY_MS = 200;
/**
 * frames waiting for a handshake (avsc's, or the farm secret's) at most; their bytes also count
 * against maxBufferedBytes. A sender's first window goes out before any handshake is answered.
 */
const MAX_PENDING_PACKETS = 256;

export class Peer {
  private client: Service.Client = service.createClient({ buffering: true });
  private socket: Socket | null = null;
  private channel: Service.ClientChannel | null = null;
  private lastAttempt = 0;
  private lastError = '';
  private encoder: PacketEncoder | null = null;
  sent = 0;
  failed = 0;
  /** frames dropped because the connection's send buffer was full (a slow link or a stalled peer) */
  overflowed = 0;

  constructor(
    readonly endpoint: Endpoint,
    private readonly maxMessageBytes: number,
    private readonly log: (msg: string) => void = () => {},
    /** the farm secret: prove it and check the node's proof before any Avro byte */
    private readonly secret?: Buffer,
    /** bytes the socket may hold unsent before frames are dropped (default 4 messages of the maximum size) */
    private readonly maxBufferedBytes = 4 * maxMessageBytes,
  ) {
    this.client.on('error', (e: Error) => this.note(e));
  }

  get name(): string {
    return `${this.endpoint.host}:${this.endpoint.port}`;
  }

  get connected(): boolean {
    return !!this.channel && !this.channel.destroyed && !!this.socket && !this.socket.destroyed;
  }

  /**
   * Sends a frame without waiting; false when the connection is down (the frame is lost). A frame
   * that finds the send buffer full (more than maxBufferedBytes not yet taken by the network) is
   * dropped and counted in `overflowed`: the connection is up, only slow, and the node must not
   * buffer without bound.
   */
  forward(frame: Frame): boolean {
    if (!this.ensure()) {
      this.failed++;
      return false;
    }
    // three places a frame can wait: avsc's channel (until its handshake is answered), our encoder
    // (until the farm-secret handshake is through), the socket (until the network takes it)
    // (avsc queues each call as a '_ready' listener until its handshake is answered)
    const waiting = Math.max(this.channel?.listenerCount('_ready') ?? 0, this.encoder?.writableLength ?? 0);
    if ((this.socket?.writableLength ?? 0) > this.maxBufferedBytes || waiting > MAX_PENDING_PACKETS || waiting * frame.tensor.data.length > this.maxBufferedBytes) {
      this.overflowed++;
      if (this.overflowed <= 10 || this.overflowed % 100 === 0) this.log(`connection to ${this.name}: send buffer full, frame ${frame.id} dropped (${this.overflowed} so far)`);
      return true;
    }
    this.sent++;
    this.client.emitMessage('forward', { frame }, {}, (err: unknown) => {
      if (err) {
        this.failed++;
        this.note(err);
      }
    });
    return true;
  }

  /** The node's stats; rejects after timeoutMs or when the node cannot be reached. */
  stats(timeoutMs = 2000): Promise<NodeStats> {
    return new Promise((resolve, reject) => {
      if (!this.ensure(true)) {
        reject(new Error(`cannot reach ${this.name}: ${this.lastError || 'not connected'}`));
        return;
      }
      let settled = false;
      const settle = (err: string | undefined, res?: NodeStats) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(new Error(`stats from ${this.name}: ${err}`));
        else resolve(res!);
      };
      // a node computes in a worker thread (compute-thread.ts): its loop is free to answer at once
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      // avsc's own timeout is only a backstop, so a request never stays pending forever
      this.client.emitMessage('stats', {}, { timeout: timeoutMs + 120_000 }, (err: unknown, res: unknown) => {
        settle(err ? describe(err) : undefined, res as NodeStats);
      });
    });
  }

  close(): void {
    this.channel?.destroy(true);
    this.socket?.destroy();
    this.channel = null;
    this.socket = null;
    this.encoder = null;
  }

  private ensure(force = false): boolean {
    if (this.connected) return true;
    const now = Date.now();
    if (!force && now - this.lastAttempt < RETRY_MS) return false;
    this.lastAttempt = now;
    this.close();
    const socket = connect({ host: this.endpoint.host, port: this.endpoint.port });
    socket.setNoDelay(true);
    const decoder = new PacketDecoder(this.maxMessageBytes);
    socket.on('error', (e) => this.note(e));
    decoder.on('error', (e) => {
      this.note(e);
      socket.destroy();
    });
    const encoder = new PacketEncoder(socket);
    this.encoder = encoder;
    if (this.secret) {
      // Requests wait in the encoder until the handshake is through; replies are read after it.
      const auth = authenticateServer(socket, this.secret);
      encoder.holdUntil(auth);
      auth.then(
        () => socket.pipe(decoder),
        (e: Error) => {
          this.note(e);
          socket.destroy();
        },
      );
    } else {
      socket.pipe(decoder);
    }
    const channel = this.client.createChannel({ readable: decoder, writable: encoder } as never, { objectMode: true });
    channel.on('error', (e: unknown) => this.note(e));
    // Every frame sent before the handshake completes waits on the channel's '_ready' event: a
    // window of 20 frames is normal, not a listener leak.
    channel.setMaxListeners(0);
    socket.on('close', () => {
      if (!channel.destroyed) channel.destroy(true);
    });
    this.socket = socket;
    this.channel = channel;
    // Requests made before the handshake completes are queued by the stateful channel.
    return true;
  }

  private note(err: unknown): void {
    const msg = describe(err);
    if (msg !== this.lastError) this.log(`connection to ${this.name}: ${msg}`);
    this.lastError = msg;
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; rpcCode?: string; message?: string };
  const code = e?.code ?? e?.rpcCode;
  return code ? `${code} ${e.message ?? ''}`.trim() : String(e?.message ?? err);
}
