// Role config: each node process's NodeConfig as JSON in /etc/pifarm/nodes/<instance>.json,
// readable by the pifarm user only. Configs of instances the farm no longer places here are
// removed (their units are stopped by the start step). Reports which instances changed, so deploy
// restarts only those.
import { createHash } from 'node:crypto';
import { RUN_USER, SECRET_PATH, configPath } from './layout.js';
import { writeRemoteFile } from './remote-file.js';
import { ProvisionError, type StepContext, type StepOutcome } from './types.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export interface RoleConfigOutcome extends StepOutcome {
  /** instances whose config was written (new or different) */
  changed: string[];
  removed: string[];
}

export async function pushRoleConfigs(ctx: StepContext): Promise<RoleConfigOutcome> {
  const want = new Map(ctx.plan.nodes.map((n) => [n.instance, JSON.stringify(n.config, null, 2) + '\n']));
  const have = new Map(Object.entries(ctx.facts.pifarm.configs));
  // a new secret is a change for every node: each must restart to prove the new one
  const secret = ctx.plan.secret ? ctx.plan.secret + '\n' : undefined;
  const secretChanged = secret !== undefined && ctx.facts.pifarm.secretSha !== sha(secret);
  const changed = [...want].filter(([i, text]) => secretChanged || have.get(i) !== sha(text)).map(([i]) => i);
  const removed = [...have.keys()].filter((i) => !want.has(i));
  if (changed.length === 0 && removed.length === 0 && !secretChanged) return { status: 'ok', detail: `${want.size} node config(s) up to date`, changed, removed };
  const what = [secretChanged ? 'the farm secret' : '', changed.length ? `${changed.length} config(s): ${changed.join(', ')}` : '', removed.length ? `remove ${removed.join(', ')}` : ''].filter(Boolean).join('; ');
  if (ctx.check) return { status: 'changed', detail: `would write ${what}`, changed, removed };
  if (secretChanged) {
    // mode 0600 and owned by the run user: node-main refuses a secret others can read
    await writeRemoteFile(ctx.t, SECRET_PATH, secret!, 0o600, RUN_USER, RUN_USER);
    ctx.facts.pifarm.secretSha = sha(secret!);
  }
  for (const i of changed) {
    await writeRemoteFile(ctx.t, configPath(i), want.get(i)!, 0o640, RUN_USER);
    ctx.facts.pifarm.configs[i] = sha(want.get(i)!);
  }
  if (removed.length) {
    const rm = await ctx.t.exec(`rm -f ${removed.map((i) => configPath(i)).join(' ')}`, { sudo: true });
    if (rm.code !== 0) throw new ProvisionError(`${ctx.host.name}: cannot remove old configs: ${rm.stderr.trim()}`);
    for (const i of removed) delete ctx.facts.pifarm.configs[i];
  }
  return { status: 'changed', detail: `wrote ${what}`, changed, removed };
}
