// pifarm run|demo --serve [ADDR:]PORT: the live view on the control machine (127.0.0.1 unless an
// address is given): / the page, /events a snapshot every half second (server-sent events), /state
// one snapshot, /metrics the Prometheus text. The nodes are polled for their stats every second;
// the latest frame is encoded as JPEG (sharp) at most twice a second.
import { createServer, type Server, type ServerResponse } from 'node:http';
import sharp from 'sharp';
import { Peer } from '../runtime/peer.js';
import type { LiveView, WatchedNode } from '../runtime/live-view.js';
import type { FrameResult } from '../runtime/sender.js';
import { liveMetrics } from './metrics.js';
import { livePage } from './page.js';
import { LiveState } from './state.js';

export class LiveServerError extends Error {
  readonly userFacing = true;
}

/** "8080", ":8080", "0.0.0.0:8080" -> where to listen; the default address is loopback. */
export function parseServe(spec: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new LiveServerError(`--serve: expected [ADDRESS:]PORT, e.g. 8080 or 0.0.0.0:8080, got "${spec}"`);
  return { host: m[1] || '127.0.0.1', port };
}

export class LiveServer implements LiveView {
  readonly state: LiveState;
  private server: Server | undefined;
  private readonly clients = new Set<ServerResponse>();
  private readonly timers: NodeJS.Timeout[] = [];
  private peers: { node: WatchedNode; peer: Peer }[] = [];
  private watchTimer: NodeJS.Timeout | undefined;
  private image: { frame: number; url: string } | undefined;
  private encoding = false;
  private readonly registry;

  constructor(model: string, topology: string, shape: [number, number, number], labels?: string[]) {
    this.state = new LiveState(model, topology, shape, labels);
    this.registry = liveMetrics(this.state);
  }

  async listen(spec: string): Promise<string> {
    const { host, port } = parseServe(spec);
    const title = `${this.state.model} (${this.state.topology})`;
    this.server = createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (url === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(livePage(title, this.view()));
      if (url === '/state') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.view()));
      if (url === '/metrics') {
        void this.registry.metrics().then((text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text));
        return;
      }
      if (url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        res.write(`data: ${JSON.stringify(this.view())}\n\n`);
        this.clients.add(res);
        req.on('close', () => this.clients.delete(res));
        return;
      }
      res.writeHead(404).end('not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) => reject(new LiveServerError(`--serve ${spec}: cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`)));
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    const at = `http://${host.includes(':') ? `[${host}]` : host}:${addr && typeof addr === 'object' ? addr.port : port}/`;
    this.every(500, () => this.push());
    return at;
  }

  onResult(r: FrameResult): void {
    this.state.onResult(r);
  }

  counts(c: { offered: number; skipped: number; lost: number }): void {
    Object.assign(this.state, c);
  }

  watch(nodes: WatchedNode[], o: { maxMessageBytes: number; secret?: Buffer; topology?: string; move?: string }): void {
    // a live move watches the new topology's nodes instead
    for (const { peer } of this.peers) peer.close();
    clearInterval(this.watchTimer);
    this.state.forgetNodes();
    if (o.topology) this.state.topology = o.topology;
    if (o.move) this.state.moves.push(o.move);
    this.peers = nodes.map((node) => ({ node, peer: new Peer(node.endpoint, o.maxMessageBytes, () => {}, o.secret) }));
    this.watchTimer = setInterval(() => {
      for (const { node, peer } of this.peers) {
        peer.stats(900).then(
          (s) => this.state.node(node.name, node.role, node.host, s),
          () => this.state.node(node.name, node.role, node.host, undefined),
        );
      }
    }, 1000);
    this.watchTimer.unref();
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    clearInterval(this.watchTimer);
    for (const { peer } of this.peers) peer.close();
    for (const c of this.clients) c.end();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private view() {
    return { ...this.state.snapshot(), ...(this.image ? { image: this.image.url } : {}) };
  }

  private push(): void {
    const latest = this.state.latestInput;
    if (latest && latest.frame !== this.image?.frame && !this.encoding) {
      this.encoding = true;
      const [h, w, c] = this.state.shape;
      sharp(Buffer.from(latest.bytes.buffer, latest.bytes.byteOffset, latest.bytes.byteLength), { raw: { width: w, height: h, channels: c as 3 } })
        .jpeg({ quality: 80 })
        .toBuffer()
        .then((jpg) => (this.image = { frame: latest.frame, url: `data:image/jpeg;base64,${jpg.toString('base64')}` }), () => undefined)
        .finally(() => (this.encoding = false));
    }
    if (this.clients.size === 0) return;
    const data = `data: ${JSON.stringify(this.view())}\n\n`;
    for (const c of this.clients) c.write(data);
  }
}
