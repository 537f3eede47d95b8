// Free TCP ports on 127.0.0.1 for the local farm: bind port 0 n times at once (so they are
// distinct), read the ports, release them. Another process could take one in between; the node
// then fails with EADDRINUSE naming the port, and the launcher reports it.
import { createServer, type Server } from 'node:net';

export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
