// Opens the node ports to the farm's own hosts only, when the host runs a firewall (ufw or
// nftables). Only ever adds accept rules: never enables a firewall, never changes a policy, so SSH
// cannot be locked out by pifarm.
import { shq } from '../transport/shell.js';
import { ProvisionError, type Step, type StepContext } from './types.js';

const COMMENT = 'pifarm';

async function ufw(ctx: StepContext): Promise<{ todo: string[]; apply: () => Promise<void> }> {
  const st = await ctx.t.exec('ufw status', { sudo: true });
  const have = st.stdout;
  const todo: string[] = [];
  for (const port of ctx.plan.ports) {
    for (const peer of ctx.plan.peers) {
      const re = new RegExp(`^${port}/tcp\\s+ALLOW( IN)?\\s+${peer.replace(/\./g, '\\.')}(\\s|$)`, 'm');
      if (!re.test(have)) todo.push(`${peer} -> ${port}/tcp`);
    }
  }
  return {
    todo,
    apply: async () => {
      for (const item of todo) {
        const [peer, port] = item.split(' -> ');
        const r = await ctx.t.exec(`ufw allow proto tcp from ${shq(peer!)} to any port ${parseInt(port!, 10)} comment ${COMMENT}`, { sudo: true });
        if (r.code !== 0) throw new ProvisionError(`${ctx.host.name}: ufw allow ${item} failed: ${r.stderr.trim()}`);
      }
    },
  };
}

async function nft(ctx: StepContext): Promise<{ todo: string[]; apply: () => Promise<void> }> {
  const chain = await ctx.t.exec('nft -a list chain inet filter input', { sudo: true });
  if (chain.code !== 0) {
    throw new ProvisionError(`${ctx.host.name}: nftables is active but has no "inet filter input" chain to add to; allow tcp ports ${ctx.plan.ports.join(', ')} from ${ctx.plan.peers.join(', ')} by hand`);
  }
  const want = `ip saddr { ${ctx.plan.peers.join(', ')} } tcp dport { ${ctx.plan.ports.join(', ')} } accept comment "${COMMENT}"`;
  const ours = chain.stdout.split('\n').filter((l) => l.includes(`comment "${COMMENT}"`));
  const current = ours.map((l) => l.replace(/\s*# handle \d+\s*$/, '').trim());
  if (current.length === 1 && current[0] === want) return { todo: [], apply: async () => {} };
  return {
    todo: [`nft rule: ${want}`],
    apply: async () => {
      const handles = ours.map((l) => /# handle (\d+)/.exec(l)?.[1]).filter(Boolean);
      const cmds = [...handles.map((h) => `nft delete rule inet filter input handle ${h}`), `nft insert rule inet filter input ${want}`];
      const r = await ctx.t.exec(cmds.join(' && '), { sudo: true });
      if (r.code !== 0) throw new ProvisionError(`${ctx.host.name}: nft failed: ${r.stderr.trim()}`);
    },
  };
}

export const firewallStep: Step = {
  name: 'firewall',
  async run(ctx) {
    if (!ctx.facts.ufwActive && !ctx.facts.nftActive) return { status: 'ok', detail: 'no active firewall' };
    if (ctx.plan.farmProblem) return { status: 'skipped', detail: `no farm to open node ports for (${ctx.plan.farmProblem}); deploy opens them` };
    if (ctx.plan.ports.length === 0) return { status: 'ok', detail: 'no node ports on this host' };
    const fw = ctx.facts.ufwActive ? await ufw(ctx) : await nft(ctx);
    const which = ctx.facts.ufwActive ? 'ufw' : 'nftables';
    if (fw.todo.length === 0) return { status: 'ok', detail: `${which}: node ports open to the farm` };
    if (ctx.check) return { status: 'changed', detail: `${which}: would allow ${fw.todo.join('; ')}` };
    await fw.apply();
    return { status: 'changed', detail: `${which}: allowed ${fw.todo.length} rule(s)` };
  },
};
