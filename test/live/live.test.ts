// The live view in real Chromium while a local farm streams photos: the page follows the run
// (IPS, the latest frame and its classes, every node up), /metrics answers in the Prometheus text
// format, and when a node process is killed mid-run the page and the metrics say it is down while
// the run goes on on the other replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePorts } from '../../src/lab/local-ports.js';
import { waitFor } from '../wait.js';
import { parseMetrics } from './prometheus.js';

const PHOTOS = ['/usr/lib/python3/dist-packages/skimage/data/chelsea.png', '/usr/share/darknet/data/dog.jpg', '/usr/share/darknet/data/horses.jpg'];

function page(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'pifarm-live-chromium-'));
  return new Promise((resolve, reject) =>
    execFile('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-data-dir=${profile}`, '--timeout=3000', '--dump-dom', url], { timeout: 60_000, maxBuffer: 16 << 20 }, (e, out) => (e ? reject(e) : resolve(out))),
  );
}

interface State { completed: number; nodes: { name: string; up: boolean }[]; latest: { name: string } | null }

test('the live page and /metrics follow a run in Chromium, and show a node that dies as down', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-live-'));
  for (const p of PHOTOS) copyFileSync(p, join(dir, basename(p)));
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}/`;
  const demo = spawn(process.execPath, ['dist/src/cli/main.js', 'demo', '--preset', 'alexnet-6', '--source', dir, '--loop', '--frames', '3000', '--rate', '12', '--serve', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((r) => demo.on('close', (code) => r(code ?? -1)));
  try {
    const state = async (): Promise<State> => (await (await fetch(`${url}state`)).json()) as State;
    await waitFor('the first frames and every node answering', async () => {
      try {
        const s = await state();
        return s.completed >= 5 && s.nodes.length === 5 && s.nodes.every((n) => n.up);
      } catch {
        return false;
      }
    }, 60_000, 200);
    const dom = await page(url);
    assert.match(dom, /<body[^>]*data-state="live"/);
    assert.match(dom, /id="ips">\d+\.\d\d</);
    assert.match(dom, /<img id="frame" alt="latest frame" src="data:image\/jpeg;base64,/);
    assert.match(dom, /id="frame-name">frame \d+: (chelsea\.png|dog\.jpg|horses\.jpg)</);
    assert.equal((dom.match(/class="up">up</g) ?? []).length, 5, 'the five node processes up');
    const metrics = parseMetrics(await (await fetch(`${url}metrics`)).text());
    assert.ok((metrics.value('pifarm_frames_completed', { model: 'alexnet' }) ?? 0) >= 1);
    assert.equal(metrics.value('pifarm_node_up', { model: 'alexnet', node: 'block1.1', host: 'local' }), 1);
    assert.equal(metrics.type('pifarm_stage_service_ms'), 'GAUGE');

    // a replica dies (SIGKILL): the page and /metrics say so, and frames keep completing
    const pid = spawnSync('pgrep', ['-f', '-n', 'node-main.js --config .*-block1\\.1\\.json'], { encoding: 'utf8' }).stdout.trim();
    assert.ok(/^\d+$/.test(pid), `block1.1's process: "${pid}"`);
    process.kill(Number(pid), 'SIGKILL');
    await waitFor('block1.1 down in the live state', async () => (await state()).nodes.find((n) => n.name === 'block1.1')?.up === false, 20_000, 200);
    const before = (await state()).completed;
    const down = await page(url);
    assert.match(down, /<td>block1\.1<\/td><td>local<\/td><td class="down">DOWN<\/td>/);
    assert.equal(parseMetrics(await (await fetch(`${url}metrics`)).text()).value('pifarm_node_up', { model: 'alexnet', node: 'block1.1', host: 'local' }), 0);
    await waitFor('frames completing on the other replica', async () => (await state()).completed > before + 5, 30_000, 200);
  } finally {
    demo.kill('SIGTERM');
    await exited;
  }
  assert.ok(out.length > 0);
});

test('the live view follows a live move: after a device is lost it watches the new topology\'s nodes on their devices, and the page says the move', { timeout: 120_000 }, async () => {
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}/`;
  const demo = spawn(process.execPath, ['dist/src/cli/main.js', 'demo', '--preset', 'alexnet-6', '--elastic', '--lose', 'block1@2', '--frames', '600', '--rate', '30', '--serve', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((r) => demo.on('close', (code) => r(code ?? -1)));
  type Moved = { topology: string; moves: string[]; nodes: { name: string; host: string; up: boolean }[] };
  const state = async (): Promise<Moved | undefined> => {
    try {
      return (await (await fetch(`${url}state`)).json()) as Moved;
    } catch {
      return undefined;
    }
  };
  try {
    await waitFor('the first topology on dev1..dev5', async () => (await state())?.nodes.filter((n) => n.up).length === 5, 60_000, 200);
    assert.deepEqual((await state())!.nodes.map((n) => n.host).sort(), ['dev1', 'dev2', 'dev3', 'dev4', 'dev5']);
    await waitFor('the new topology in the view', async () => (await state())?.topology === 'block1-fc1-fc2 x4', 30_000, 200);
    await waitFor('its four nodes up', async () => (await state())?.nodes.filter((n) => n.up).length === 4, 10_000, 200);
    const s = (await state())!;
    assert.deepEqual(s.nodes.map((n) => n.host).sort(), ['dev2', 'dev3', 'dev4', 'dev5']);
    assert.ok(s.nodes.every((n) => n.name.startsWith('block1-fc1-fc2.')), JSON.stringify(s.nodes));
    assert.equal(s.moves.length, 1, JSON.stringify(s.moves));
    assert.match(s.moves[0]!, /^at \d+\.\d s, dev1 lost: block1 x2 -> fc1 x1 \(2 shards\) -> fc2 x1 => block1-fc1-fc2 x4 \(predicted/);
    // the page, drawn by Chromium, says the topology that runs and the move
    const dom = await page(url);
    assert.match(dom, /topology <span id="topology">block1-fc1-fc2 x4<\/span>/);
    assert.match(dom, /<li>moved at \d+\.\d s, dev1 lost: /);
    assert.equal(await exited, 0, out);
  } finally {
    demo.kill('SIGTERM');
    await exited;
  }
});
