// The shared-medium emulation on a bridge this test builds in its own network namespaces (never on
// the machine's interfaces): a rate limit that every device shares, and a clean removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { applyCommands, applyNetEmulation, ifbName, lossRuleset, removeCommands, removeNetEmulation, shapingCommands } from '../../../src/lab/emulate/network.js';

test('command builder: netem where available, htb otherwise; every port and the bridge redirected', () => {
  const n = { bridge: 'pfbr0', rateMbit: 300, delayMs: 3, lossPct: 0.5 };
  assert.deepEqual(shapingCommands(n, true), [['tc', 'qdisc', 'replace', 'dev', 'pfemifb-pfbr0', 'root', 'handle', '1:', 'netem', 'rate', '300mbit', 'limit', '10000', 'delay', '3ms', 'loss', '0.5%']]);
  assert.equal(shapingCommands(n, false)[1]!.join(' '), 'tc class replace dev pfemifb-pfbr0 parent 1: classid 1:10 htb rate 300mbit ceil 300mbit');
  const cmds = applyCommands(n, ['vpi1h', 'vpi2h'], false).map((c) => c.join(' '));
  assert.equal(cmds.filter((c) => / ingress .* redirect dev pfemifb-pfbr0$/.test(c)).length, 2);
  assert.equal(cmds.filter((c) => /dev pfbr0 egress .* redirect dev pfemifb-pfbr0$/.test(c)).length, 1);
  assert.deepEqual(removeCommands('pfbr0', ['a']).at(-2), ['ip', 'link', 'del', 'pfemifb-pfbr0']);
  assert.match(lossRuleset('pfbr0', ['vpi1-h', 'vpi2-h'], 2.5), /chain pfem_forward \{ type filter hook forward priority 0; policy accept; iifname \{ "vpi1-h", "vpi2-h" \} numgen random mod 10000 < 250 drop; \}/);
  assert.ok(ifbName('a-very-long-bridge-name').length <= 15);
  assert.throws(() => applyCommands({ ...n, rateMbit: 0 }, [], true), /rate must be > 0/);
  assert.throws(() => applyCommands({ ...n, lossPct: 100 }, [], true), /loss must be in/);
});

const FLOW = fileURLToPath(new URL('./net-flow.js', import.meta.url));
const id = process.pid % 100000;
const NS = { br: `pfem-br-${id}`, a: `pfem-a-${id}`, b: `pfem-b-${id}` };
const sh = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
const inNs = (ns: string, ...argv: string[]) => sh('ip', 'netns', 'exec', ns, ...argv);

function setup(): void {
  for (const ns of Object.values(NS)) sh('ip', 'netns', 'add', ns);
  inNs(NS.br, 'ip', 'link', 'add', 'pfembr0', 'type', 'bridge');
  inNs(NS.br, 'ip', 'link', 'set', 'pfembr0', 'up');
  for (const [host, addr] of [[NS.a, '10.99.0.11/24'], [NS.b, '10.99.0.12/24']] as const) {
    const port = host === NS.a ? 'pfema0' : 'pfemb0';
    inNs(NS.br, 'ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host);
    inNs(NS.br, 'ip', 'link', 'set', port, 'master', 'pfembr0');
    inNs(NS.br, 'ip', 'link', 'set', port, 'up');
    inNs(host, 'ip', 'addr', 'add', addr, 'dev', 'eth0');
    inNs(host, 'ip', 'link', 'set', 'eth0', 'up');
    inNs(host, 'ip', 'link', 'set', 'lo', 'up');
  }
}

function teardown(): void {
  for (const ns of Object.values(NS)) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      /* not created */
    }
  }
}

interface Flow {
  mbit: number;
  first: number;
  last: number;
  bytes: number;
}

/** A receiving server in netns `to`, ready to take one flow. */
async function server(to: string, port: number): Promise<{ result: Promise<Flow> }> {
  const child = spawn('ip', ['netns', 'exec', to, process.execPath, FLOW, 'server', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.on('exit', () => reject(new Error('flow server exited early')));
  });
  const result = new Promise<Flow>((resolve) =>
    child.on('exit', () => {
      const r = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { bytes: number; ms: number; first: number; last: number };
      resolve({ mbit: (r.bytes * 8) / 1e6 / (r.ms / 1000), first: r.first, last: r.last, bytes: r.bytes });
    }),
  );
  return { result };
}

function client(from: string, toAddr: string, port: number, bytes: number, at = 0): Promise<unknown> {
  const c = spawn('ip', ['netns', 'exec', from, process.execPath, FLOW, 'client', toAddr, String(port), String(bytes), String(at)], { stdio: 'inherit' });
  return new Promise((r) => c.on('exit', r));
}

/** Sends `bytes` from `from` to a server in `to`; resolves with what the receiver saw. */
async function flow(from: string, to: string, toAddr: string, port: number, bytes: number): Promise<Flow> {
  const s = await server(to, port);
  await client(from, toAddr, port, bytes);
  const f = await s.result;
  assert.equal(f.bytes, bytes);
  return f;
}

test('shared medium on a test bridge: the rate is shared by all devices and removal restores the bridge', { timeout: 60_000 }, async (t) => {
  teardown();
  try {
    setup();
    const free = (await flow(NS.a, NS.b, '10.99.0.12', 15001, 4_000_000)).mbit;
    const res = await applyNetEmulation({ bridge: 'pfembr0', rateMbit: 20, delayMs: 3, lossPct: 0 }, { netns: NS.br });
    assert.deepEqual(res.ports.sort(), ['pfema0', 'pfemb0']);
    if (!res.netem) assert.match(res.warnings.join(), /no sch_netem/);
    const one = (await flow(NS.a, NS.b, '10.99.0.12', 15002, 2_000_000)).mbit;
    assert.ok(one < 23 && one > 10, `one flow at 20 Mbit/s emulated: ${one.toFixed(1)} Mbit/s (unshaped ${free.toFixed(0)})`);
    assert.ok(free > 3 * one, `the limit has an effect: unshaped ${free.toFixed(0)} vs ${one.toFixed(1)} Mbit/s`);
    // Two flows in opposite directions share the one medium (per-port limits would give 20 each).
    // Their aggregate over the span both were running stays at the one limit.
    const [sb, sa] = await Promise.all([server(NS.b, 15003), server(NS.a, 15004)]);
    // both clients start sending at the same wall-clock moment, whenever their processes came up
    const at = Date.now() + 2500;
    await Promise.all([client(NS.a, '10.99.0.12', 15003, 3_000_000, at), client(NS.b, '10.99.0.11', 15004, 3_000_000, at)]);
    const [ab, ba] = await Promise.all([sb.result, sa.result]);
    const overlap = Math.min(ab.last, ba.last) - Math.max(ab.first, ba.first);
    const span = Math.max(ab.last, ba.last) - Math.min(ab.first, ba.first);
    const aggregate = ((ab.bytes + ba.bytes) * 8) / 1e6 / (span / 1000);
    t.diagnostic(`unshaped ${free.toFixed(0)} Mbit/s; one flow at 20 Mbit/s: ${one.toFixed(1)}; two opposite flows together: ${aggregate.toFixed(1)} (${ab.mbit.toFixed(1)} + ${ba.mbit.toFixed(1)})`);
    assert.ok(overlap > span / 2, `the two flows ran mostly together (${overlap} of ${span} ms)`);
    assert.ok(aggregate < 24, `shared: both directions together ${aggregate.toFixed(1)} Mbit/s (${ab.mbit.toFixed(1)} and ${ba.mbit.toFixed(1)} each)`);
    // Loss: netem where the kernel has it, else an nftables bridge table; UDP shows it (TCP would retransmit).
    await applyNetEmulation({ bridge: 'pfembr0', rateMbit: 100, delayMs: 0, lossPct: 20 }, { netns: NS.br });
    const udp = spawn('ip', ['netns', 'exec', NS.b, process.execPath, FLOW, 'udp-server', '15005', '2500'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let udpOut = '';
    await new Promise<void>((resolve) => udp.stdout.on('data', (d: Buffer) => ((udpOut += d.toString()), udpOut.includes('ready') && resolve())));
    const udpDone = new Promise<void>((r) => udp.on('exit', () => r()));
    const sender = spawn('ip', ['netns', 'exec', NS.a, process.execPath, FLOW, 'udp-client', '10.99.0.12', '15005', '1000'], { stdio: 'inherit' });
    await Promise.all([udpDone, new Promise((r) => sender.on('exit', r))]);
    const received = (JSON.parse(udpOut.split('\n').find((l) => l.startsWith('{'))!) as { datagrams: number }).datagrams;
    t.diagnostic(`20% loss: ${received} of 1000 datagrams arrived`);
    assert.ok(received > 700 && received < 900, `${received} of 1000 datagrams through 20% loss`);
    await removeNetEmulation('pfembr0', { netns: NS.br });
    assert.doesNotMatch(inNs(NS.br, 'nft', 'list', 'ruleset'), /pfem_/);
    const qdiscs = inNs(NS.br, 'tc', 'qdisc', 'show');
    assert.doesNotMatch(qdiscs, /clsact|htb|netem/);
    assert.doesNotMatch(inNs(NS.br, 'ip', 'link', 'show'), /pfemifb/);
  } finally {
    teardown();
  }
});
