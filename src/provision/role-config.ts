// Role config: each node process's NodeConfig as JSON in /etc/pifarm/nodes/<instance>.json,
// readable by the pifarm user only. Configs of instances the farm no longer places here are
// removed (their units are stopped by the start step). Reports which instances changed, so deploy
// restarts only those.
import { createHash } from 'node:crypto';
import { RUN_USER, SECRET_PATH, configPath } from './layout.js';
import { hostNodeConfigs } from './host-engine.js';
import { writeRemoteFiles, type RemoteFile } from './remote-file.js';
import type { StepContext, StepOutcome } from './types.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export interface RoleConfigOutcome extends StepOutcome {
  /** instances whose config was written (new or different) */
  changed: string[];
  removed: string[];
}

export async function pushRoleConfigs(ctx: StepContext): Promise<RoleConfigOutcome> {
  const want = new Map((await hostNodeConfigs(ctx)).map((n) => [n.instance, JSON.stringify(n.config, null, 2) + '\n']));
  const have = new Map(Object.entries(ctx.facts.pifarm.configs));
  // a new secret is a change for every node: each must restart to prove the new one
  const secret = ctx.plan.secret ? ctx.plan.secret + '\n' : undefined;
  const secretChanged = secret !== undefined && ctx.facts.pifarm.secretSha !== sha(secret);
  const changed = [...want].filter(([i, text]) => secretChanged || have.get(i) !== sha(text)).map(([i]) => i);
  const removed = [...have.keys()].filter((i) => !want.has(i));
  if (changed.length === 0 && removed.length === 0 && !secretChanged) return { status: 'ok', detail: `${want.size} node config(s) up to date`, changed, removed };
  const what = [secretChanged ? 'the farm secret' : '', changed.length ? `${changed.length} config(s): ${changed.join(', ')}` : '', removed.length ? `remove ${removed.join(', ')}` : ''].filter(Boolean).join('; ');
  if (ctx.check) return { status: 'changed', detail: `would write ${what}`, changed, removed };
  // the secret with mode 0600 and owned by the run user: node-main refuses one others can read.
  // Everything in one round trip; group and owner set before the rename, so a node never sees a
  // file it cannot read
  const files: RemoteFile[] = changed.map((i) => ({ path: configPath(i), content: want.get(i)!, mode: 0o640, group: RUN_USER }));
  if (secretChanged) files.unshift({ path: SECRET_PATH, content: secret!, mode: 0o600, group: RUN_USER, owner: RUN_USER });
  await writeRemoteFiles(ctx.t, files, removed.map((i) => configPath(i)));
  if (secretChanged) ctx.facts.pifarm.secretSha = sha(secret!);
  for (const i of changed) ctx.facts.pifarm.configs[i] = sha(want.get(i)!);
  for (const i of removed) delete ctx.facts.pifarm.configs[i];
  return { status: 'changed', detail: `wrote ${what}`, changed, removed, bytesSent: files.reduce((a, f) => a + Buffer.byteLength(f.content), 0) };
}
