// `pifarm plan --profile HOST`: run profile-main.js from the pifarm release on the host (deployed by
// `pifarm up`, or this checkout for a local host) and read back its measured DeviceProfile. The
// host is reached as every farm command reaches it (the farm's known hosts, --accept-new-key).
import type { Inventory } from '../inventory/types.js';
import { CURRENT_LINK } from '../provision/layout.js';
import type { DeviceProfile } from '../topology/cost-model.js';
import { shq } from '../transport/shell.js';
import type { Transport } from '../transport/transport.js';
import { projectRoot, type FarmOptions } from './options.js';
import { hostTransport } from './session.js';

/** VGG16 on a Pi 3 loads fc1 (411 MB) and runs every layer 4 times: minutes, not seconds */
export const PROFILE_TIMEOUT_MS = 20 * 60_000;

export class ProfileError extends Error {
  readonly userFacing = true;
}

export async function profileOnHost(t: Transport, releaseDir: string, model: string, engine: string, threads?: number): Promise<DeviceProfile> {
  const script = `${releaseDir}/dist/src/topology/profile-main.js`;
  const probe = await t.exec(`test -f ${shq(script)}`, { timeoutMs: 30_000 });
  if (probe.code !== 0) throw new ProfileError(`${t.host}: ${script} is missing; deploy pifarm to the host first (pifarm up), then profile it`);
  const r = await t.exec(`node ${shq(script)} ${shq(model)} ${shq(engine)}${threads ? ` ${threads}` : ''}`, { timeoutMs: PROFILE_TIMEOUT_MS });
  if (r.code !== 0) throw new ProfileError(`${t.host}: profiling failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  let p: DeviceProfile;
  try {
    p = JSON.parse(r.stdout.trim().split('\n').pop()!) as DeviceProfile;
  } catch {
    throw new ProfileError(`${t.host}: profiling printed no profile: ${r.stdout.slice(0, 200)}`);
  }
  if (typeof p.gflops !== 'number' || !(p.gflops > 0) || typeof p.ramMb !== 'number' || !p.layerSeconds || typeof p.layerSeconds !== 'object') {
    throw new ProfileError(`${t.host}: the profile it printed is not {gflops, ramMb, layerSeconds}`);
  }
  return { ...p, name: t.host };
}

/** Profiles an inventory host: over SSH from its pifarm release, or from this checkout for a local host. */
export async function profileInventoryHost(inv: Inventory, name: string, model: string, o: FarmOptions): Promise<DeviceProfile> {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) throw new ProfileError(`--profile: unknown host "${name}"; expected local or one of: ${inv.hosts.map((x) => x.name).join(', ')}`);
  const t = hostTransport(inv, h, o);
  try {
    await t.connect();
    return await profileOnHost(t, h.local ? projectRoot() : CURRENT_LINK, model, inv.farm.engine, inv.farm.threads);
  } finally {
    await t.close();
  }
}
