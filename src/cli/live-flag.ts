// --serve [ADDR:]PORT for demo, run and up: the live view while the run goes, closed after it.
import { LiveServer } from '../live/server.js';

export const SERVE_HELP = `  --serve [ADDR:]PORT     a live view while the run goes: the latest frame and its classes, IPS,
                          latency, each stage and node, skipped and lost frames (self-contained
                          page, updated by server-sent events), and /metrics in the Prometheus
                          text format; on 127.0.0.1 unless ADDR is given`;

export async function startLive(serve: string | undefined, model: string, topology: string, shape: [number, number, number], labels?: string[]): Promise<LiveServer | undefined> {
  if (!serve) return undefined;
  const live = new LiveServer(model, topology, shape, labels);
  const url = await live.listen(serve);
  console.error(`pifarm: live view on ${url} (metrics: ${url}metrics)`);
  return live;
}
