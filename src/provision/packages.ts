// Debian packages a node host needs (Node.js itself is the runtime step). Installs wait for the
// dpkg lock (unattended-upgrades on a fresh Pi holds it for minutes); --offline never installs and
// names what is missing.
import { shq } from '../transport/shell.js';
import { ProvisionError, type Step, type StepContext } from './types.js';

export const NODE_PACKAGES = ['tar', 'gzip', 'coreutils'];

export async function missingPackages(ctx: StepContext, pkgs: string[]): Promise<string[]> {
  const r = await ctx.t.exec(`for p in ${pkgs.map(shq).join(' ')}; do dpkg-query -W -f='\${Status}\\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done`);
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** apt-get install that waits up to 10 minutes for the dpkg lock, refreshing lists once if needed. */
export async function aptInstall(ctx: StepContext, pkgs: string[]): Promise<void> {
  const apt = `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q install --no-install-recommends ${pkgs.map(shq).join(' ')}`;
  let r = await ctx.t.exec(apt, { sudo: true, timeoutMs: 900_000 });
  if (r.code !== 0 && /Unable to locate|no installation candidate|Failed to fetch/.test(r.stderr)) {
    await ctx.t.exec('apt-get -o DPkg::Lock::Timeout=600 -q update', { sudo: true, timeoutMs: 900_000 });
    r = await ctx.t.exec(apt, { sudo: true, timeoutMs: 900_000 });
  }
  if (r.code !== 0) {
    // apt refuses package lists from the future of an unsynchronised clock ("not valid yet")
    const clock = ctx.facts.clockSynced === false ? `; the host's clock is not synchronised (it says ${(await ctx.t.exec('date -u')).stdout.trim()}): wait for NTP or set the date, then provision again` : '';
    throw new ProvisionError(`${ctx.host.name}: apt-get install ${pkgs.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}${clock}`);
  }
}

/** The node packages plus the host's vars.packages (a list of Debian package names). */
export function wantedPackages(ctx: Pick<StepContext, 'host'>): string[] {
  const extra = ctx.host.vars.packages;
  if (extra === undefined) return NODE_PACKAGES;
  if (!Array.isArray(extra) || !extra.every((p) => typeof p === 'string' && /^[a-z0-9][a-z0-9+.-]+$/.test(p))) {
    throw new ProvisionError(`${ctx.host.name}: vars.packages: expected a list of Debian package names, got ${JSON.stringify(extra)}`);
  }
  return [...new Set([...NODE_PACKAGES, ...(extra as string[])])];
}

export const packagesStep: Step = {
  name: 'packages',
  async run(ctx) {
    const wanted = wantedPackages(ctx);
    if (!ctx.facts.dpkg) throw new ProvisionError(`${ctx.host.name}: no dpkg on this host (${ctx.facts.osId}); pifarm provisions Debian-based systems (Raspberry Pi OS, Debian, Ubuntu)`);
    // asked with the facts when the session opened (one round trip less), else asked now
    const known = ctx.facts.packages;
    const missing = known && wanted.every((p) => known.checked.includes(p)) ? known.missing.filter((p) => wanted.includes(p)) : await missingPackages(ctx, wanted);
    if (missing.length === 0) return { status: 'ok', detail: `${wanted.join(', ')} present` };
    if (ctx.check) return { status: 'changed', detail: `would install ${missing.join(', ')}` };
    if (ctx.offline) throw new ProvisionError(`${ctx.host.name}: missing packages ${missing.join(', ')} and --offline forbids installing; install them on the host (apt-get install ${missing.join(' ')}) or drop --offline`);
    await aptInstall(ctx, missing);
    if (ctx.facts.packages) ctx.facts.packages.missing = ctx.facts.packages.missing.filter((p) => !missing.includes(p));
    return { status: 'changed', detail: `installed ${missing.join(', ')}` };
  },
};
