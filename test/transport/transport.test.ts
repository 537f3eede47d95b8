// The SSH transport against real sshd on two virtual Pis: commands, streaming, files, timeouts,
// a host dropping mid-command, the host-key check, a jump host and the channel limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { SshTransport, HostKeyChangedError, type SshTarget } from '../../src/transport/ssh.js';
import { TransportError } from '../../src/transport/transport.js';

let pis: VirtualPis;
let dir: string;
let knownHosts: string;
const open: SshTransport[] = [];

function target(name: string, extra: Partial<SshTarget> = {}): SshTarget {
  const h = pis.hosts.find((x) => x.name === name)!;
  return { name, address: h.address, port: 22, user: 'root', identity: pis.keyPath, ...extra };
}
function transport(name: string, extra: Partial<SshTarget> = {}, acceptNewKey = false): SshTransport {
  const t = new SshTransport(target(name, extra), { knownHostsFile: knownHosts, acceptNewKey, retries: 1 });
  open.push(t);
  return t;
}

before(async () => {
  pis = await startVirtualPis(2);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-ssh-'));
  knownHosts = join(dir, 'known_hosts');
});
after(async () => {
  for (const t of open) await t.close();
  await pis?.teardown();
});

test('runs commands, streams output, feeds stdin and records the host key on first contact', async () => {
  const t = transport('vpi1');
  const r = await t.exec('hostname; echo err >&2; exit 3');
  assert.equal(r.stdout.trim(), 'vpi1');
  assert.equal(r.stderr.trim(), 'err');
  assert.equal(r.code, 3);
  const chunks: string[] = [];
  await t.exec('for i in 1 2 3; do echo line$i; sleep 0.05; done', { onStdout: (d) => chunks.push(d.toString()) });
  assert.match(chunks.join(''), /line1\nline2\nline3/);
  assert.equal((await t.exec('cat', { stdin: 'hello from stdin' })).stdout, 'hello from stdin');
  assert.equal((await t.exec('pwd', { cwd: '/etc' })).stdout.trim(), '/etc');
  const known = readFileSync(knownHosts, 'utf8');
  assert.match(known, /^10\.99\.0\.11 ssh-ed25519 /m);
});

test('puts and gets files, and pipes a stream into a command', async () => {
  const t = transport('vpi1');
  await t.putContent('{"a":1}\n', '/opt/pifarm-test/sub/config.json', 0o600);
  const st = await t.exec('stat -c %a /opt/pifarm-test/sub/config.json; cat /opt/pifarm-test/sub/config.json');
  assert.equal(st.stdout, '600\n{"a":1}\n');
  const local = join(dir, 'back.json');
  await t.getFile('/opt/pifarm-test/sub/config.json', local);
  assert.equal(readFileSync(local, 'utf8'), '{"a":1}\n');
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  writeFileSync(join(dir, 'big.bin'), big);
  await t.putFile(join(dir, 'big.bin'), '/opt/pifarm-test/big.bin');
  assert.equal((await t.exec('stat -c %s /opt/pifarm-test/big.bin')).stdout.trim(), String(big.length));
  const piped = await t.pipeTo('wc -c', Readable.from([Buffer.alloc(1000), Buffer.alloc(234)]));
  assert.equal(piped.stdout.trim(), '1234');
});

test('a command past its timeout is a TransportError, and the connection keeps working', async () => {
  const t = transport('vpi1');
  await assert.rejects(t.exec('sleep 10', { timeoutMs: 300 }), (e: Error) => e instanceof TransportError && /timed out/.test(e.message));
  assert.equal((await t.exec('echo still')).stdout.trim(), 'still');
});

test('at most a few channels at once: 12 parallel commands all succeed', async () => {
  const t = transport('vpi1');
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => t.exec(`sleep 0.2; echo ${i}`)));
  assert.deepEqual(rs.map((r) => Number(r.stdout.trim())), Array.from({ length: 12 }, (_, i) => i));
  // 12 commands 4 at a time take at least 3 rounds
  assert.ok(Date.now() - t0 >= 550, `took ${Date.now() - t0} ms`);
});

test('logs in with a key held by ssh-agent (no identity file named)', async () => {
  const sock = join(dir, 'agent.sock');
  const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  assert.equal(agent.status, 0, agent.stderr);
  const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)![1]);
  const saved = process.env.SSH_AUTH_SOCK;
  try {
    const add = spawnSync('ssh-add', [pis.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    process.env.SSH_AUTH_SOCK = sock;
    const t = transport('vpi1', { identity: undefined, agent: true });
    assert.equal((await t.exec('hostname')).stdout.trim(), 'vpi1');
  } finally {
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
    process.kill(agentPid);
  }
});

test('reaches a host through a jump host', async () => {
  const t = transport('vpi2', { jump: target('vpi1') });
  const r = await t.exec('hostname; echo $SSH_CONNECTION');
  const [name, conn] = r.stdout.trim().split('\n');
  assert.equal(name, 'vpi2');
  // the connection comes from the jump host, not from the control machine
  assert.match(conn!, /^10\.99\.0\.11 /);
});

test('a host key that changed is refused with both fingerprints, and accepted only when asked', async () => {
  await transport('vpi2').exec('true'); // first contact records the key
  const before = readFileSync(knownHosts, 'utf8');
  const regen = await pis.exec('vpi2', 'rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key && systemctl restart ssh');
  assert.equal(regen.code, 0, regen.stderr);
  await assert.rejects(transport('vpi2').exec('true'), (e: Error) => {
    assert.ok(e instanceof HostKeyChangedError, String(e));
    assert.match(e.message, /HOST KEY CHANGED for vpi2/);
    assert.ok(e.message.includes(e.oldFingerprint) && e.message.includes(e.newFingerprint));
    assert.notEqual(e.oldFingerprint, e.newFingerprint);
    assert.match(e.message, /--accept-new-key vpi2/);
    assert.match(e.message, /delete line \d+ of /);
    return true;
  });
  assert.equal(readFileSync(knownHosts, 'utf8'), before, 'a refused key must not touch known_hosts');
  assert.equal((await transport('vpi2', {}, true).exec('hostname')).stdout.trim(), 'vpi2');
  assert.notEqual(readFileSync(knownHosts, 'utf8'), before);
  assert.equal((await transport('vpi2').exec('hostname')).stdout.trim(), 'vpi2');
});

test('a host that goes away mid-command fails that call with a TransportError', async () => {
  const t = transport('vpi2');
  await t.connect();
  const pending = t.exec('sleep 30', { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 300));
  await pis.stop('vpi2');
  await assert.rejects(pending, (e: Error) => e instanceof TransportError && e.message.startsWith('vpi2:'));
  await assert.rejects(transport('vpi2').connect(), (e: Error) => e instanceof TransportError && /cannot connect/.test(e.message));
  assert.ok(existsSync(knownHosts));
});
