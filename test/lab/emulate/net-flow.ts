// A TCP flow for the network emulation test, run inside a test network namespace:
//   server <port>             prints "ready", then {bytes, ms, first, last} of the first connection
//                             (first/last: wall-clock ms of the first byte and of the end), and exits
//   client <host> <port> <n> [at]  sends n bytes (from wall-clock ms `at`, once connected) and
//                             exits when the server closed
//   udp-server <port> <ms>    prints "ready", counts datagrams for ms after the first, prints {datagrams}
//   udp-client <host> <port> <n>  sends n small datagrams, 1 ms apart
import { createSocket } from 'node:dgram';
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
  const at = Number(process.argv[6] ?? 0);
  const sock = createConnection({ host: a!, port: Number(b) }, () => setTimeout(send, Math.max(0, at - Date.now())));
  const send = () => {
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
  };
  sock.on('data', () => undefined);
  sock.on('close', () => process.exit(0));
} else if (mode === 'udp-server') {
  const sock = createSocket('udp4');
  let n = 0;
  const report = () => {
    process.stdout.write(`${JSON.stringify({ datagrams: n })}\n`);
    process.exit(0);
  };
  setTimeout(report, 4 * Number(b)); // nothing arrives at all: report 0 instead of hanging
  sock.on('message', () => {
    if (n++ === 0) setTimeout(report, Number(b));
  });
  sock.bind(Number(a), () => process.stdout.write('ready\n'));
} else if (mode === 'udp-client') {
  const sock = createSocket('udp4');
  let i = 0;
  const t = setInterval(() => {
    sock.send(Buffer.alloc(100, 1), Number(b), a!);
    if (++i >= Number(c)) {
      clearInterval(t);
      setTimeout(() => sock.close(), 50);
    }
  }, 1);
} else {
  process.stderr.write('usage: net-flow server <port> | client <host> <port> <bytes>\n');
  process.exit(2);
}
