// Serving Avro IPC on a TCP port: each connection gets its own framing and stateful avsc server
// channel. A connection that sends bytes that are not Avro IPC, or a message above the size
// bound, is closed; the listening socket and every other connection keep going.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import avro from 'avsc';
import type { Service } from 'avsc';
import { authenticateClient } from './auth.js';
import { boundAdapterCache } from './avro-bounds.js';
import { PacketDecoder, PacketEncoder, type Packet } from './framing.js';

const HEADERS = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const ERROR_UNION = avro.Type.forSchema(['string'], { wrapUnions: true });

export class ListenError extends Error {}

/** connections served at once; more are closed on arrival by the kernel-facing server */
export const MAX_CONNECTIONS = 256;

/**
 * An error response written by avsc's server channel means the peer sent something it could not
 * decode (bad handshake, invalid request) or called an unknown message; our handlers never answer
 * with errors. Returns the message, or null for a normal response.
 */
function errorOf(packet: Packet): string | null {
  const res = packet.payload[packet.payload.length - 1];
  if (!res || res.length === 0) return null;
  try {
    const { offset } = HEADERS.decode(res, 0);
    if (offset < 0 || res[offset] !== 1) return null;
    const err = ERROR_UNION.decode(res, offset + 1).value as { string?: string } | undefined;
    return err?.string ?? 'error response';
  } catch {
    return null;
  }
}

export interface ServeOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  log: (msg: string) => void;
  /** the farm secret: a peer must prove it before a single Avro byte is read */
  secret?: Buffer;
}

/** Listens and serves; rejects with a ListenError naming the port and the reason when it cannot bind. */
export function serveAvro(server: Service.Server, opts: ServeOptions): Promise<NetServer> {
  const sockets = new Set<Socket>();
  const net = createServer((socket) => {
    boundAdapterCache(server);
    sockets.add(socket);
    socket.setNoDelay(true);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let closing = false;
    const close = (why: string) => {
      if (closing) return;
      closing = true;
      opts.log(`closing connection from ${peer}: ${why}`);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const decoder = new PacketDecoder(opts.maxMessageBytes);
    decoder.on('error', (e: Error) => close(e.message));
    socket.on('error', (e) => close(e.message));
    socket.on('close', () => sockets.delete(socket));
    const encoder = new PacketEncoder(socket, (p) => {
      const err = errorOf(p);
      if (err) close(`not a valid Avro request: ${err}`);
    });
    if (opts.secret) {
      authenticateClient(socket, opts.secret).then(
        () => socket.pipe(decoder),
        (e: Error) => close(`refused: ${e.message}`),
      );
    } else {
      socket.pipe(decoder);
    }
    const channel = server.createChannel({ readable: decoder, writable: encoder } as never, { objectMode: true });
    channel.on('error', (e: Error) => close(e.message));
  });
  (net as NetServer & { sockets?: Set<Socket> }).sockets = sockets;
  // A node has a handful of legitimate peers; a flood of connections (each holding buffers until
  // its handshake times out) is cut off here instead of at the process's file descriptor limit.
  net.maxConnections = MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    net.once('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EADDRINUSE' ? 'another process holds it; stop that process or choose another port'
        : e.code === 'EACCES' ? 'permission denied; ports below 1024 need root'
        : e.code === 'EADDRNOTAVAIL' ? 'this host has no such address'
        : 'see the error code';
      reject(new ListenError(`cannot listen on ${opts.host}:${opts.port}: ${e.code ?? e.message} (${hint})`));
    });
    net.listen(opts.port, opts.host, () => {
      net.removeAllListeners('error');
      net.on('error', (e) => opts.log(`server error: ${e.message}`));
      resolve(net);
    });
  });
}

/** Closes the listening socket and every open connection. */
export function closeServer(net: NetServer): Promise<void> {
  for (const s of (net as NetServer & { sockets?: Set<Socket> }).sockets ?? []) s.destroy();
  return new Promise((resolve) => net.close(() => resolve()));
}
