// Node.js >= 18 on the host (node processes run the bundle with it); else installed from the
// distribution (Debian 12 and Raspberry Pi OS Bookworm ship Node 18).
import { aptInstall } from './packages.js';
import { gatherFacts } from './facts.js';
import { ProvisionError, type Step } from './types.js';

export const MIN_NODE_MAJOR = 18;

export const runtimeStep: Step = {
  name: 'runtime',
  async run(ctx) {
    const f = ctx.facts;
    if (f.nodePath && (f.nodeMajor ?? 0) >= MIN_NODE_MAJOR) return { status: 'ok', detail: `node ${f.nodeVersion} at ${f.nodePath}` };
    const have = f.nodePath ? `node ${f.nodeVersion} at ${f.nodePath} is too old` : 'no node';
    if (ctx.check) return { status: 'changed', detail: `${have}; would install nodejs from the distribution` };
    if (ctx.offline) throw new ProvisionError(`${ctx.host.name}: ${have} (need >= ${MIN_NODE_MAJOR}) and --offline forbids installing; install nodejs on the host or drop --offline`);
    await aptInstall(ctx, ['nodejs']);
    const after = await gatherFacts(ctx.t);
    if (!after.nodePath || (after.nodeMajor ?? 0) < MIN_NODE_MAJOR) {
      throw new ProvisionError(`${ctx.host.name}: the distribution's nodejs is ${after.nodeVersion ?? 'missing'}, need >= ${MIN_NODE_MAJOR}; install Node.js ${MIN_NODE_MAJOR}+ (e.g. from NodeSource) and run provision again`);
    }
    Object.assign(ctx.facts, after);
    return { status: 'changed', detail: `installed node ${after.nodeVersion}` };
  },
};
