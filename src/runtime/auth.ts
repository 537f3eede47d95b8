// Mutual authentication of every RPC connection on the farm secret, before a single Avro byte is
// read: a peer without the secret, or with a wrong one, is refused and never reaches the decoder.
//
//   server -> client  "PFA1" | nonceS(32)
//   client -> server  "PFA1" | nonceC(32) | HMAC(secret, "pifarm-client" | nonceS | nonceC)
//   server -> client  HMAC(secret, "pifarm-server" | nonceC | nonceS)
//
// The server checks the client's proof before it proves itself, so a wrong-secret client learns
// nothing; the client checks the server's proof, so a node never streams frames to an impostor.
// Fresh nonces on both sides make a recorded exchange useless for replay.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';

const MAGIC = Buffer.from('PFA1');
const NONCE = 32;
const MAC = 32;
export const AUTH_TIMEOUT_MS = 5000;

export class AuthError extends Error {}

function mac(secret: Buffer, label: string, a: Buffer, b: Buffer): Buffer {
  return createHmac('sha256', secret).update(label).update(a).update(b).digest();
}

/**
 * Reads exactly n bytes in paused mode, leaving whatever follows in the socket for the next reader.
 * The socket stays paused afterwards: the next reader must pipe() or resume() it.
 */
function readExactly(socket: Socket, n: number, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new AuthError('authentication timed out')), Math.max(0, deadline - Date.now()));
    const onReadable = () => {
      const b = socket.read(n) as Buffer | null;
      if (b) done(null, b);
    };
    const onEnd = () => done(new AuthError('connection closed during authentication'));
    const onError = (e: Error) => done(new AuthError(`connection failed during authentication: ${e.message}`));
    function done(err: Error | null, b?: Buffer) {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(b!);
    }
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    onReadable();
  });
}

/** Server side; resolves when the client proved the secret and our proof is sent. */
export async function authenticateClient(socket: Socket, secret: Buffer, timeoutMs = AUTH_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nonceS = randomBytes(NONCE);
  socket.write(Buffer.concat([MAGIC, nonceS]));
  const hello = await readExactly(socket, MAGIC.length + NONCE + MAC, deadline);
  if (!hello.subarray(0, 4).equals(MAGIC)) throw new AuthError('peer did not start the pifarm handshake (not a pifarm node or sender, or an old version)');
  const nonceC = hello.subarray(4, 4 + NONCE);
  const proof = hello.subarray(4 + NONCE);
  if (!timingSafeEqual(proof, mac(secret, 'pifarm-client', nonceS, nonceC))) throw new AuthError('peer does not hold the farm secret');
  socket.write(mac(secret, 'pifarm-server', nonceC, nonceS));
}

/** Client side; resolves when the server proved the secret. */
export async function authenticateServer(socket: Socket, secret: Buffer, timeoutMs = AUTH_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const hello = await readExactly(socket, MAGIC.length + NONCE, deadline);
  if (!hello.subarray(0, 4).equals(MAGIC)) throw new AuthError('server did not start the pifarm handshake (not a pifarm node, or an old version)');
  const nonceS = hello.subarray(4);
  const nonceC = randomBytes(NONCE);
  socket.write(Buffer.concat([MAGIC, nonceC, mac(secret, 'pifarm-client', nonceS, nonceC)]));
  const proof = await readExactly(socket, MAC, deadline);
  if (!timingSafeEqual(proof, mac(secret, 'pifarm-server', nonceC, nonceS))) throw new AuthError('server does not hold the farm secret');
}

/**
 * Reads a farm secret file: 64 hex characters. Refuses a file others can read, as ssh does for keys,
 * because anyone holding the secret can feed the farm.
 */
export function readSecretFile(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new AuthError(`cannot read the farm secret ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if ((st.mode & 0o077) !== 0) throw new AuthError(`the farm secret ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  const hex = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new AuthError(`the farm secret ${path} is not 64 hex characters; run pifarm deploy to write a new one`);
  return Buffer.from(hex, 'hex');
}

export function newSecretHex(): string {
  return randomBytes(32).toString('hex');
}
