// A TCP flow for the network emulation test, run inside a test network namespace:
//   server <port>             prints "ready", then {bytes, ms, first, last} of the first connection
//                             (first/last: wall-clock ms of the first byte and of the end), and exits
//   client <host> <port> <n>  sends n bytes and exits when the server closed
import { createConnection, createServer } from 'node:net';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'server') {
  const server = createServer((sock) => {
    let bytes = 0;
    let t0 = 0;
    let first = 0;
    sock.on('data', (d: Buffer) => {
      if (!t0) {
        t0 = performance.now();
        first = Date.now();
      }
      bytes += d.length;
    });
    sock.on('end', () => {
      process.stdout.write(`${JSON.stringify({ bytes, ms: performance.now() - t0, first, last: Date.now() })}\n`);
      sock.end();
      server.close();
    });
  });
  server.listen(Number(a), () => process.stdout.write('ready\n'));
} else if (mode === 'client') {
  const total = Number(c);
  const sock = createConnection({ host: a!, port: Number(b) }, () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void sock.once('drain', pump);
      }
      sock.end();
    };
    pump();
  });
  sock.on('data', () => undefined);
  sock.on('close', () => process.exit(0));
} else {
  process.stderr.write('usage: net-flow server <port> | client <host> <port> <bytes>\n');
  process.exit(2);
}
