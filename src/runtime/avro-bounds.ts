// Bounds on Avro decoding of untrusted bytes. avsc reads an array or map block count from the
// wire and loops that many times, reading items past the end of the buffer as zeros before it
// checks that the buffer was long enough: a 8 KB message whose shape claims 100 million
// dimensions held a node's event loop for 10 s (and a larger count exhausts its memory).
// An encoded item takes at least one byte in every type of our protocol and of avsc's handshake,
// so a block count above the bytes left in the message cannot be valid: refuse it before the
// loop. The error reaches avsc's "invalid request" path, which closes that connection only
// (server-conn.ts). Installed once, on import (protocol.ts imports it).
import avro from 'avsc';

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
}

interface Reader {
  _read(tap: Tap): unknown;
}

export class AvroBoundsError extends Error {}

/** True for types whose encoding can be zero bytes long (null, empty records and fixed). */
function canBeEmpty(t: unknown): boolean {
  const name = (t as { typeName?: string }).typeName;
  if (name === 'null') return true;
  if (name === 'record' || name === 'error') return ((t as { fields: { type: unknown }[] }).fields ?? []).every((f) => canBeEmpty(f.type));
  if (name === 'fixed') return (t as { size: number }).size === 0;
  return false;
}

function blockCount(tap: Tap, what: string): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong(); // the block's size in bytes
  }
  const left = tap.buf.length - tap.pos;
  if (n > 0 && n > left) throw new AvroBoundsError(`${what} block of ${n} items in the ${left} bytes left of the message`);
  return n;
}

let installed = false;

export function installAvroBounds(): void {
  if (installed) return;
  installed = true;
  const types = avro.types as unknown as Record<string, { prototype: Record<string, unknown> }>;
  const arrayProto = types.ArrayType!.prototype as unknown as Reader & { itemsType: Reader };
  const mapProto = types.MapType!.prototype as unknown as Reader & { valuesType: Reader };
  const arrayRead = arrayProto._read;
  arrayProto._read = function (this: typeof arrayProto, tap: Tap) {
    if (canBeEmpty(this.itemsType)) return arrayRead.call(this, tap);
    const out: unknown[] = [];
    for (let n = blockCount(tap, 'array'); n; n = blockCount(tap, 'array')) {
      while (n--) out.push(this.itemsType._read(tap));
    }
    return out;
  };
  mapProto._read = function (this: typeof mapProto, tap: Tap & { readString(): string }) {
    const out: Record<string, unknown> = {};
    for (let n = blockCount(tap, 'map'); n; n = blockCount(tap, 'map')) {
      while (n--) {
        const key = tap.readString();
        out[key] = this.valuesType._read(tap);
      }
    }
    return out;
  };
}

installAvroBounds();

const MAX_CACHED_ADAPTERS = 16;

/**
 * avsc's server caches one protocol adapter per client protocol hash it has seen, for ever; a
 * handshake's hash is chosen by the client, so a stream of made-up hashes would grow the cache
 * without bound. Connections keep their own adapter once the handshake is done, so dropping the
 * cache entries (but our own protocol's) costs at most a re-parse on the next handshake.
 */
export function boundAdapterCache(server: unknown): void {
  const cache = (server as { _cache?: Record<string, unknown> })._cache;
  if (!cache) return;
  const keys = Object.keys(cache);
  if (keys.length <= MAX_CACHED_ADAPTERS) return;
  const own = String((server as { service: { hash: Buffer } }).service.hash);
  for (const k of keys) if (k !== own) delete cache[k];
}
