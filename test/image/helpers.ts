// Shared setup of the image tests: a temp dir with a key, an inventory of four hosts (the
// loader checks the farm can run) and the secrets in an env object, never in process.env.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePublicKey } from './fixtures.js';
import { startVirtualPis, type VirtualPis } from '../../src/lab/vpi/harness.js';

export const PASSWORD = 'Corr3ct-Horse-pw';
export const PASSPHRASE = 'wifi-Passphrase-42';
export const SECRETS = { env: { PIFARM_TEST_PW: PASSWORD, PIFARM_TEST_WIFI: PASSPHRASE } };

export function writeInventory(dir: string, extra = ''): { inventory: string; keyLine: string } {
  const key = makePublicKey(dir);
  const inventory = join(dir, 'farm.yaml');
  writeFileSync(
    inventory,
    `hosts:
  pi1: 10.0.0.11
  pi2:
    address: 10.0.0.12
    image:
      staticAddress: 192.168.50.12/24
      gateway: 192.168.50.1
      dns: [192.168.50.1, 1.1.1.1]
      keymap: de
  pi3: 10.0.0.13
  pi4: 10.0.0.14
defaults:
  user: farmer
  identity: ./id_ed25519
  image:
    timezone: Europe/London
    keymap: gb
    passwordEnv: PIFARM_TEST_PW
    wifi: {ssid: "farm net", country: GB, passphraseEnv: PIFARM_TEST_WIFI}
${extra}farm:
  model: alexnet
  topology: alexnet-5
`,
  );
  return { inventory, keyLine: key.line };
}

/** `cloud-init schema` on a user-data text; returns [ok, output]. */
export function cloudInitSchema(dir: string, text: string): [boolean, string] {
  const f = join(dir, 'user-data.check.yaml');
  writeFileSync(f, text);
  const r = spawnSync('cloud-init', ['schema', '--config-file', f], { encoding: 'utf8' });
  return [r.status === 0, r.stdout + r.stderr];
}

/** netplan's own parser and generator on a network-config; returns the generated files' text. */
export function netplanGenerate(dir: string, text: string): string {
  const root = join(dir, `netplan-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(root, 'etc', 'netplan'), { recursive: true });
  writeFileSync(join(root, 'etc', 'netplan', '50-cloud-init.yaml'), text, { mode: 0o600 });
  execFileSync('netplan', ['generate', '--root-dir', root], { stdio: 'pipe' });
  return execFileSync('sh', ['-c', `cat "${root}"/run/systemd/network/* "${root}"/run/netplan/* 2>/dev/null || true`], { encoding: 'utf8' });
}

/** One virtual Pi. The harness is one per machine: wait while another test run holds it. */
export async function virtualPi(): Promise<VirtualPis> {
  const until = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      return await startVirtualPis(1);
    } catch (e) {
      if (!/in use by process/.test((e as Error).message) || Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
