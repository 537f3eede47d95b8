// Does a TCP port answer from the control machine? (status, and waiting for nodes after start)
import { connect } from 'node:net';

export function portAnswers(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Waits until every endpoint answers; returns the ones that never did. */
export async function waitForPorts(endpoints: { host: string; port: number }[], timeoutMs: number): Promise<{ host: string; port: number }[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = endpoints;
  while (pending.length > 0 && Date.now() < deadline) {
    const ok = await Promise.all(pending.map((e) => portAnswers(e.host, e.port)));
    pending = pending.filter((_, i) => !ok[i]);
    if (pending.length) await new Promise((r) => setTimeout(r, 300));
  }
  return pending;
}
