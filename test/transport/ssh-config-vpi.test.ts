// A user whose `ssh farm-b` works reaches farm-b with pifarm the same way: ~/.ssh/config (a
// temporary HOME) names the virtual Pis by alias with HostName, User, several IdentityFiles, one
// through a ProxyJump host and from an Included file; an inventory of bare names provisions them.
// Then the key only in a running ssh-agent; then no key anywhere, which names what was tried.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';
import { pifarm } from '../farm/helpers.js';

let pis: VirtualPis;
let dir: string;

before(async () => {
  pis = await startVirtualPis(2);
  dir = mkdtempSync(join(tmpdir(), 'pifarm-sshcfg-'));
  writeFileSync(join(dir, 'two.yaml'), 'model: alexnet\nname: two\nstages:\n  - { role: convs, layers: conv1..flatten }\n  - { role: dense, layers: fc1..fc3 }\n');
});
after(async () => {
  await pis?.teardown();
});

/** A HOME with .ssh/ (and the harness key as `key`, when given), its config lines, and its files. */
function home(name: string, config?: string[], key?: string, extra: Record<string, string> = {}): string {
  const h = join(dir, name);
  mkdirSync(join(h, '.ssh'), { recursive: true, mode: 0o700 });
  if (key) {
    copyFileSync(pis.keyPath, join(h, '.ssh', key));
    execFileSync('chmod', ['600', join(h, '.ssh', key)]);
  }
  if (config) writeFileSync(join(h, '.ssh', 'config'), config.join('\n') + '\n');
  for (const [f, text] of Object.entries(extra)) {
    mkdirSync(join(h, '.ssh', f, '..'), { recursive: true });
    writeFileSync(join(h, '.ssh', f), text);
  }
  return h;
}

function inventory(file: string, hosts: string[]): string {
  const p = join(dir, file);
  writeFileSync(p, ['hosts:', ...hosts.map((h) => `  ${h}`), 'farm:', '  model: alexnet', `  topology: ${join(dir, 'two.yaml')}`, '  ports: { node: 12345, sender: 19999 }', ''].join('\n'));
  return p;
}

test('an inventory of bare names reaches the hosts as ~/.ssh/config says, through its ProxyJump and Include', async () => {
  const [a, b] = pis.hosts;
  const HOME = home('cfg', [
    'Host farm-a',
    `  HostName ${a!.address}`,
    '  User root',
    '  IdentityFile ~/.ssh/farmkey',
    'Include ~/.ssh/config.d/*.conf',
    'Host *',
    '  User nobody-from-the-catch-all',
  ], 'farmkey', {
    'config.d/farm-b.conf': ['Host farm-b', `  HostName ${b!.address}`, '  User root', '  IdentityFile ~/.ssh/not-there', '  IdentityFile ~/.ssh/farmkey', '  ProxyJump farm-a', ''].join('\n'),
  });
  const inv = inventory('bare.yaml', ['farm-a:', 'farm-b:']);
  const env = { HOME, PIFARM_STATE_DIR: join(dir, 'state-cfg'), SSH_AUTH_SOCK: '' };
  const check = await pifarm(['inventory', 'check', '-i', inv], dir, env);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`^farm-a +root@${a!.address.replace(/\./g, '\\.')}:22, key ${HOME}/\\.ssh/farmkey +address: ssh config ~/\\.ssh/config, user: ssh config ~/\\.ssh/config, port: default, key: ssh config ~/\\.ssh/config`, 'm'), check.stdout);
  // ProxyJump names an inventory host: the jump goes through it
  assert.match(check.stdout, new RegExp(`^farm-b +root@${b!.address.replace(/\./g, '\\.')}:22, key ${HOME}/\\.ssh/not-there, ${HOME}/\\.ssh/farmkey, via farm-a +.*jump: ssh config`, 'm'));
  const r = await pifarm(['provision', '-i', inv, '--offline'], dir, env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /pifarm provision: 2 host\(s\) ok/);
  // a ProxyJump alias the inventory does not list is resolved through the ssh config, as ssh does
  const solo = inventory('solo.yaml', ['farm-b:', 'me: { local: true, slots: 3 }']);
  assert.match((await pifarm(['inventory', 'check', '-i', solo], dir, env)).stdout, new RegExp(`^farm-b +root@${b!.address.replace(/\./g, '\\.')}:22, .*, via root@${a!.address.replace(/\./g, '\\.')}:22 `, 'm'));
  const viaAlias = await pifarm(['provision', '-i', solo, '--offline', '--limit', 'farm-b'], dir, { ...env, PIFARM_STATE_DIR: join(dir, 'state-solo') });
  assert.equal(viaAlias.code, 0, viaAlias.stdout + viaAlias.stderr);
  // the inventory still wins over the ssh config
  const wins = inventory('wins.yaml', ['farm-a: { user: pi }', 'farm-b:']);
  assert.match((await pifarm(['inventory', 'check', '-i', wins], dir, env)).stdout, new RegExp(`^farm-a +pi@${a!.address.replace(/\./g, '\\.')}:22.* user: inventory`, 'm'));
});

test('with the key only in a running ssh-agent, and with none anywhere (the error names what was tried)', async () => {
  const [a, b] = pis.hosts;
  const inv = inventory('plain.yaml', [`farm-a: { address: ${a!.address}, user: root }`, `farm-b: { address: ${b!.address}, user: root }`]);
  const sock = join(dir, 'agent.sock');
  const out = execFileSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)![1]);
  try {
    execFileSync('ssh-add', ['-q', pis.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const HOME = home('agent');
    const r = await pifarm(['provision', '-i', inv, '--offline'], dir, { HOME, SSH_AUTH_SOCK: sock, PIFARM_STATE_DIR: join(dir, 'state-agent') });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const none = await pifarm(['provision', '-i', inv, '--offline'], dir, { HOME: home('none'), SSH_AUTH_SOCK: '', PIFARM_STATE_DIR: join(dir, 'state-none') });
    assert.equal(none.code, 1);
    assert.match(none.stdout, /farm-a: connect: farm-a: no way to log in: no identity in the inventory or the ssh config, none of the default keys exists \(\S+\/\.ssh\/id_ed25519, \S+\/\.ssh\/id_ecdsa, \S+\/\.ssh\/id_rsa\), and no ssh-agent \(SSH_AUTH_SOCK is not set\)/);
  } finally {
    process.kill(pid);
  }
});
