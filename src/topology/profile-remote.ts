// `pifarm plan --profile HOST`: run profile-main.js from the pifarm release on the host (deployed by
// `pifarm up`, or this checkout for a local host) and read back its measured DeviceProfile.
import type { Transport } from '../transport/transport.js';
import type { DeviceProfile } from './cost-model.js';

/** VGG16 on a Pi 3 loads fc1 (411 MB) and runs every layer 4 times: minutes, not seconds */
export const PROFILE_TIMEOUT_MS = 20 * 60_000;

export class ProfileError extends Error {
  readonly userFacing = true;
}

export async function profileOnHost(t: Transport, releaseDir: string, model: string, engine: string, threads?: number): Promise<DeviceProfile> {
  const script = `${releaseDir}/dist/src/topology/profile-main.js`;
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const probe = await t.exec(`test -f ${q(script)}`, { timeoutMs: 30_000 });
  if (probe.code !== 0) throw new ProfileError(`${t.host}: ${script} is missing; deploy pifarm to the host first (pifarm up), then profile it`);
  const r = await t.exec(`node ${q(script)} ${q(model)} ${q(engine)}${threads ? ` ${threads}` : ''}`, { timeoutMs: PROFILE_TIMEOUT_MS });
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
