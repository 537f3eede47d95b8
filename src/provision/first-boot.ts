// A freshly flashed Pi is busy for its first minutes: cloud-init applies the seed (user, key,
// network) and may reboot, and unattended-upgrades holds the dpkg lock. Provisioning then waits,
// with progress, instead of failing: cloud-init is waited for here (the facts say whether it is
// still running: its generator marked the boot enabled and no result is written yet), the dpkg lock by apt itself
// (packages.ts). A clock that is not synchronised yet is named, since apt refuses package lists
// "not valid yet" until it is.
import { ProvisionError, type Step } from './types.js';

/** How long a first boot may take: cloud-init on a Pi 3, with a package upgrade in the seed. */
const CLOUD_INIT_WAIT_MS = 20 * 60_000;

export const firstBootStep: Step = {
  name: 'first boot',
  async run(ctx) {
    if (ctx.facts.cloudInit !== 'running') return { status: 'ok', detail: ctx.facts.cloudInit === 'done' ? 'cloud-init finished' : 'no first-boot work running' };
    if (ctx.check) return { status: 'ok', detail: 'cloud-init is still running the first boot; provision would wait for it' };
    ctx.log('cloud-init is still running the first boot: waiting for it (cloud-init status --wait)');
    const t0 = Date.now();
    const r = await ctx.t.exec('cloud-init status --wait', { sudo: true, timeoutMs: CLOUD_INIT_WAIT_MS });
    const status = /status: (\S+)/.exec(r.stdout)?.[1] ?? `exit ${r.code}`;
    // exit 2 is "done with recoverable errors" (a warning in the seed): the host is usable
    if (r.code !== 0 && r.code !== 2) throw new ProvisionError(`${ctx.host.name}: cloud-init's first boot ended ${status}: ${r.stderr.trim() || r.stdout.trim()}; see /var/log/cloud-init.log on the host`);
    ctx.facts.cloudInit = 'done';
    return { status: 'ok', detail: `waited ${((Date.now() - t0) / 1000).toFixed(0)} s for cloud-init's first boot (${status})` };
  },
};
