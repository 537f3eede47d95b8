// `pifarm plan --profile HOST`: run profile-main.js from the pifarm release on the host (deployed by
// `pifarm up`, or this checkout for a local host) and read back its measured DeviceProfile. The
// host is reached as every farm command reaches it (the farm's known hosts, --accept-new-key). An
// imported model's package (its graph and meta.json) is copied to the user's cache there first,
// ~/.cache/pifarm/models/NAME, where a graph of the same name (its hash) and size is kept and not
// sent again.
import { statSync } from 'node:fs';
import type { Inventory } from '../inventory/types.js';
import { graphPath, META_FILE, type ImportedModel } from '../model/imported.js';
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

/** An imported model to profile: the package and the folder it is in here. */
export interface ImportedToProfile {
  modelsDir: string;
  pkg: ImportedModel;
}

export async function profileOnHost(t: Transport, releaseDir: string, model: string, engine: string, threads?: number, imported?: ImportedToProfile): Promise<DeviceProfile> {
  const script = `${releaseDir}/dist/src/topology/profile-main.js`;
  const probe = await t.exec(`test -f ${shq(script)}`, { timeoutMs: 30_000 });
  if (probe.code !== 0) throw new ProfileError(`${t.host}: ${script} is missing; deploy pifarm to the host first (pifarm up), then profile it`);
  const what = imported ? `--imported ${shq(await sendPackage(t, imported))} ${shq(imported.pkg.name)}` : shq(model);
  const r = await t.exec(`node ${shq(script)} ${what} ${shq(engine)}${threads ? ` ${threads}` : ''}`, { timeoutMs: PROFILE_TIMEOUT_MS });
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
  if (imported) {
    const missing = imported.pkg.cuts.slice(0, -1).filter((c) => typeof p.layerSeconds![c.tensor] !== 'number');
    if (missing.length) throw new ProfileError(`${t.host}: the profile it printed has no time for ${missing.length} of ${imported.pkg.name}'s cut ranges (${missing[0]!.tensor}...): is its pifarm release older than this one? deploy again (pifarm up)`);
  }
  return { ...p, name: t.host };
}

/** Copies the package to the host's cache (the graph only when not there already); returns the models folder there. */
async function sendPackage(t: Transport, { modelsDir, pkg }: ImportedToProfile): Promise<string> {
  const home = (await t.exec('printf %s "$HOME"', { timeoutMs: 30_000 })).stdout.trim();
  const models = `${home}/.cache/pifarm/models`;
  const dir = `${models}/${pkg.name}`;
  const graph = `${dir}/${pkg.graphFile}`;
  const local = graphPath(modelsDir, pkg);
  const there = await t.exec(`mkdir -p ${shq(dir)} && stat -c %s ${shq(graph)} 2>/dev/null || true`, { timeoutMs: 30_000 });
  if (Number(there.stdout.trim()) !== statSync(local).size) {
    await t.putFile(local, `${graph}.part`);
    const moved = await t.exec(`mv ${shq(`${graph}.part`)} ${shq(graph)}`, { timeoutMs: 30_000 });
    if (moved.code !== 0) throw new ProfileError(`${t.host}: could not put ${pkg.name}'s graph in ${dir}: ${moved.stderr.trim()}`);
  }
  await t.putContent(JSON.stringify(pkg), `${dir}/${META_FILE}`);
  return models;
}

/** Profiles an inventory host: over SSH from its pifarm release, or from this checkout for a local host. */
export async function profileInventoryHost(inv: Inventory, name: string, model: string, o: FarmOptions, imported?: ImportedToProfile): Promise<DeviceProfile> {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) throw new ProfileError(`--profile: unknown host "${name}"; expected local or one of: ${inv.hosts.map((x) => x.name).join(', ')}`);
  const t = hostTransport(inv, h, o);
  try {
    await t.connect();
    return await profileOnHost(t, h.local ? projectRoot() : CURRENT_LINK, model, inv.farm.engine, inv.farm.threads, imported);
  } finally {
    await t.close();
  }
}
