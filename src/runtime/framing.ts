// Framing of Avro IPC messages on a persistent TCP connection, compatible with avsc's (and Java
// Avro's Netty transceiver's) stateful framing: [id int32][frame count int32] then per frame
// [length int32][bytes], all big-endian. avsc ships this codec, but its decoder re-concatenates
// the whole pending buffer on every TCP chunk (quadratic for a 3 MB tensor) and accepts any
// length, so a stray or hostile peer could make a node buffer gigabytes. This one keeps chunks
// in a list, copies each message once, and refuses messages above a bound: the error it emits
// makes the caller close that one connection.
import { Transform, Writable, type TransformCallback } from 'node:stream';
import type { Socket } from 'node:net';

/** What avsc's channels read and write in object mode. */
export interface Packet {
  id: number;
  payload: Buffer[];
}

export class FramingError extends Error {}

/** avsc sends one or two buffers per message (handshake + request); anything far above is not Avro. */
const MAX_PARTS = 16;

export class PacketDecoder extends Transform {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private id = 0;
  private parts = -1; // -1: waiting for a header
  private payload: Buffer[] = [];
  private messageBytes = 0;
  private partLength = -1; // -1: waiting for a part length

  constructor(private readonly maxMessageBytes: number) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.drain();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.buffered > 0 || this.parts >= 0) cb(new FramingError(`connection ended inside a message (${this.buffered} bytes pending)`));
    else cb();
  }

  private drain(): void {
    for (;;) {
      if (this.parts < 0) {
        if (this.buffered < 8) return;
        const head = this.takeBytes(8);
        this.id = head.readInt32BE(0);
        this.parts = head.readInt32BE(4);
        if (this.parts < 0 || this.parts > MAX_PARTS) {
          throw new FramingError(`not an Avro IPC message: header announces ${this.parts} frames (bytes ${head.toString('hex')})`);
        }
        this.payload = [];
        this.messageBytes = 0;
      }
      while (this.payload.length < this.parts) {
        if (this.partLength < 0) {
          if (this.buffered < 4) return;
          this.partLength = this.takeBytes(4).readInt32BE(0);
          this.messageBytes += this.partLength;
          if (this.partLength < 0) throw new FramingError(`not an Avro IPC message: negative frame length ${this.partLength}`);
          if (this.messageBytes > this.maxMessageBytes) {
            throw new FramingError(`message of at least ${this.messageBytes} bytes exceeds maxMessageBytes ${this.maxMessageBytes}`);
          }
        }
        if (this.buffered < this.partLength) return;
        this.payload.push(this.takeBytes(this.partLength));
        this.partLength = -1;
      }
      const packet: Packet = { id: this.id, payload: this.payload };
      this.parts = -1;
      this.payload = [];
      this.push(packet);
    }
  }

  /** The next n bytes, copied once (or sliced when they sit in one chunk). */
  private takeBytes(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

/** Writes packets straight to the socket, corked so one message leaves in as few segments as possible. */
export class PacketEncoder extends Writable {
  constructor(
    private readonly socket: Socket,
    /** sees every packet after it is written (the server uses it to spot error responses) */
    private readonly onPacket?: (p: Packet) => void,
  ) {
    super({ objectMode: true });
  }

  /** Holds writes until `gate` resolves (the farm-secret handshake must go first on the socket). */
  private gate: Promise<void> | null = null;

  holdUntil(gate: Promise<void>): void {
    this.gate = gate;
    gate.then(
      () => {
        if (this.gate === gate) this.gate = null;
      },
      () => {},
    );
  }

  override _write(packet: Packet, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    if (this.gate) {
      this.gate.then(
        () => this._write(packet, _enc, cb),
        () => cb(), // the socket is being closed; the packet goes nowhere
      );
      return;
    }
    if (this.socket.destroyed) {
      cb();
      return;
    }
    const head = Buffer.allocUnsafe(8 + 4 * packet.payload.length);
    head.writeInt32BE(packet.id, 0);
    head.writeInt32BE(packet.payload.length, 4);
    this.socket.cork();
    // Lengths go in front of each part; small parts are merged with their length to save writes.
    let pending = head.subarray(0, 8);
    packet.payload.forEach((buf, i) => {
      const len = head.subarray(8 + 4 * i, 12 + 4 * i);
      len.writeInt32BE(buf.length, 0);
      if (buf.length < 4096) {
        pending = Buffer.concat([pending, len, buf]);
      } else {
        this.socket.write(Buffer.concat([pending, len]));
        this.socket.write(buf);
        pending = Buffer.alloc(0);
      }
    });
    if (pending.length) this.socket.write(pending);
    this.socket.uncork();
    this.onPacket?.(packet);
    cb();
  }

  override _final(cb: (error?: Error | null) => void): void {
    this.socket.end();
    cb();
  }
}
