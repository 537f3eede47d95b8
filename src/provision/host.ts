// The per-host sequences farm commands run: provision (system set-up), deploy (code + configs,
// restarting only what changed), start, stop, rollback. Each returns one StepResult per step and
// stops at the first failed step (later steps depend on earlier ones); it never throws.
import { codeSyncStep, currentRelease, switchLinkCommand } from './code-sync.js';
import { firewallStep } from './firewall.js';
import { modelFilesStep } from './model-files.js';
import { firstBootStep } from './first-boot.js';
import { CURRENT_LINK, PREVIOUS_LINK, RELEASES_DIR } from './layout.js';
import { packagesStep } from './packages.js';
import { pushRoleConfigs } from './role-config.js';
import { runtimeStep } from './runtime.js';
import { disableAndStop, enableAndStart, installedInstances, restartUnits, tryRestart, unitStates } from './services.js';
import { ProvisionError, runStep, type Step, type StepContext, type StepResult } from './types.js';
import { requireSystemd, unitStep } from './unit.js';
import { userStep } from './user.js';
import { waitReady } from './wait-ready.js';

export const PROVISION_STEPS: Step[] = [firstBootStep, packagesStep, runtimeStep, userStep, firewallStep, unitStep];

async function sequence(ctx: StepContext, steps: Step[]): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (const s of steps) {
    const r = await runStep(s, ctx);
    out.push(r);
    ctx.log(`${s.name}: ${r.status} - ${r.detail}`);
    if (r.status === 'failed') break;
  }
  return out;
}

export function provisionHost(ctx: StepContext): Promise<StepResult[]> {
  return sequence(ctx, PROVISION_STEPS);
}

/** Code, configs, then a restart of the running units whose code or config changed. */
export function deployHost(ctx: StepContext): Promise<StepResult[]> {
  let codeChanged = false;
  let configChanged: string[] = [];
  let removed: string[] = [];
  const code: Step = {
    name: 'code',
    async run(c) {
      const o = await codeSyncStep.run(c);
      codeChanged = o.status === 'changed';
      return o;
    },
  };
  const config: Step = {
    name: 'config',
    async run(c) {
      const o = await pushRoleConfigs(c);
      configChanged = o.changed;
      removed = o.removed;
      return o;
    },
  };
  const restart: Step = {
    name: 'restart',
    async run(c) {
      requireSystemd(c);
      const wanted = c.plan.nodes.map((n) => n.instance);
      const toRestart = codeChanged ? wanted : configChanged.filter((i) => wanted.includes(i));
      if (toRestart.length === 0 && removed.length === 0) return { status: 'ok', detail: 'nothing changed, nothing restarted' };
      // from the facts: read at the start of this command, before anything here started a unit
      const running = new Set(c.facts.pifarm.active);
      const restarting = toRestart.filter((i) => running.has(i));
      const stopping = removed.filter((i) => running.has(i));
      if (restarting.length === 0 && stopping.length === 0) return { status: 'ok', detail: 'no running unit affected' };
      if (c.check) return { status: 'changed', detail: `would restart ${restarting.join(', ') || '-'}; stop ${stopping.join(', ') || '-'}` };
      await tryRestart(c.t, restarting);
      await disableAndStop(c.t, stopping);
      await waitReady(c, restarting);
      return { status: 'changed', detail: `restarted ${restarting.join(', ') || '-'}${stopping.length ? `; stopped ${stopping.join(', ')}` : ''}` };
    },
  };
  // the farm's node ports, where a firewall is active: provision may have run before the farm resolved
  const firewall = ctx.facts.ufwActive || ctx.facts.nftActive ? [firewallStep] : [];
  // an imported model's stage graphs, before the code (a host whose CPU gets no onnxruntime is
  // refused before anything is sent) and before the configs that name them
  const models = ctx.plan.graphs?.length ? [modelFilesStep] : [];
  return sequence(ctx, [...firewall, ...models, code, config, restart]);
}

export const startStep: Step = {
  name: 'start',
  async run(c) {
    requireSystemd(c);
    const wanted = c.plan.nodes.map((n) => n.instance);
    const stray = (await installedInstances(c.t)).filter((i) => !wanted.includes(i));
    const states = await unitStates(c.t, wanted);
    const notRunning = states.filter((s) => s.active !== 'active').map((s) => s.instance);
    if (notRunning.length === 0 && stray.length === 0) return { status: 'ok', detail: `${wanted.length} unit(s) already running` };
    if (c.check) return { status: 'changed', detail: `would start ${notRunning.join(', ') || '-'}; stop ${stray.join(', ') || '-'}` };
    await disableAndStop(c.t, stray);
    await enableAndStart(c.t, wanted);
    await waitReady(c, notRunning);
    return { status: 'changed', detail: `started ${notRunning.join(', ') || '-'}${stray.length ? `; stopped stray ${stray.join(', ')}` : ''}` };
  },
};

export const stopStep: Step = {
  name: 'stop',
  async run(c) {
    requireSystemd(c);
    const all = await installedInstances(c.t);
    const states = await unitStates(c.t, all);
    const running = states.filter((s) => s.active === 'active' || s.active === 'activating' || s.active === 'failed').map((s) => s.instance);
    const enabled = all.length;
    if (running.length === 0 && enabled === 0) return { status: 'ok', detail: 'no node unit running' };
    if (c.check) return { status: 'changed', detail: `would stop ${all.join(', ')}` };
    await disableAndStop(c.t, all);
    return { status: 'changed', detail: `stopped ${all.join(', ')}` };
  },
};

/** Switches `current` back to `previous` (and previous to what was current), restarts running units. */
export const rollbackStep: Step = {
  name: 'rollback',
  async run(c) {
    const rel = await currentRelease(c);
    if (!rel.previous) throw new ProvisionError(`${c.host.name}: no previous release to roll back to (current: ${rel.current ?? 'none'})`);
    if (c.check) return { status: 'changed', detail: `would switch from ${rel.current} back to ${rel.previous}` };
    const r = await c.t.exec(
      `${switchLinkCommand(CURRENT_LINK, `${RELEASES_DIR}/${rel.previous}`)} && ${rel.current ? switchLinkCommand(PREVIOUS_LINK, `${RELEASES_DIR}/${rel.current}`) : 'true'}`,
      { sudo: true },
    );
    if (r.code !== 0) throw new ProvisionError(`${c.host.name}: rollback failed: ${r.stderr.trim()}`);
    // running units and failed ones (a bad release is why one rolls back) start on the old release
    const states = await unitStates(c.t, await installedInstances(c.t));
    const again = states.filter((u) => ['active', 'activating', 'failed'].includes(u.active)).map((u) => u.instance);
    await restartUnits(c.t, again);
    return { status: 'changed', detail: `now on release ${rel.previous} (was ${rel.current}); restarted ${again.join(', ') || 'no unit'}` };
  },
};

export function startHost(ctx: StepContext): Promise<StepResult[]> {
  return sequence(ctx, [startStep]);
}
export function stopHost(ctx: StepContext): Promise<StepResult[]> {
  return sequence(ctx, [stopStep]);
}
export function rollbackHost(ctx: StepContext): Promise<StepResult[]> {
  return sequence(ctx, [rollbackStep]);
}
