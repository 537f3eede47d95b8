// One host's connection for the length of a farm command: the transport (SSH, or local for a
// `local: true` host), its facts gathered once, and its plan.
import type { HostSpec, HostsInventory } from '../inventory/types.js';
import { LocalTransport } from '../transport/local.js';
import { SshTransport, type SshTarget } from '../transport/ssh.js';
import type { Transport } from '../transport/transport.js';
import { gatherFacts, type HostFacts } from '../provision/facts.js';
import { wantedPackages } from '../provision/packages.js';
import type { HostPlan, StepContext } from '../provision/types.js';
import { knownHostsFileOf, type FarmOptions } from './options.js';

/** The SSH target of a host, with its jump host resolved (an inventory host or user@host:port). */
export function sshTarget(inv: HostsInventory, h: HostSpec, seen: Set<string> = new Set()): SshTarget {
  const t: SshTarget = { name: h.name, address: h.address, port: h.port, user: h.user, agent: h.agent };
  if (h.identity) t.identity = h.identity;
  if (h.identities) t.identities = h.identities;
  if (h.identitiesOnly) t.identitiesOnly = true;
  if (h.jump) {
    if (seen.has(h.name)) throw new Error(`${inv.file}: hosts.${h.name}.jump: jump hosts form a loop`);
    seen.add(h.name);
    const named = inv.hosts.find((x) => x.name === h.jump);
    if (named) t.jump = sshTarget(inv, named, seen);
    else {
      const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(h.jump)!;
      t.jump = { name: h.jump, address: m[2]!, port: Number(m[3] ?? 22), user: m[1] ?? h.user, agent: h.agent };
      if (h.identity) t.jump.identity = h.identity;
      if (h.identities) t.jump.identities = h.identities;
    }
  }
  return t;
}

/** How every farm command reaches a host: locally, or over SSH with the farm's known hosts and accepted keys. */
export function hostTransport(inv: HostsInventory, host: HostSpec, opts: FarmOptions): Transport {
  return host.local
    ? new LocalTransport(host.name)
    : new SshTransport(sshTarget(inv, host), {
        knownHostsFile: knownHostsFileOf(opts),
        acceptNewKey: opts.acceptNewKey?.includes(host.name) ?? false,
      });
}

export class HostSession {
  readonly t: Transport;
  private facts: HostFacts | undefined;

  constructor(readonly inv: HostsInventory, readonly host: HostSpec, readonly plan: HostPlan, readonly opts: FarmOptions) {
    this.t = hostTransport(inv, host, opts);
  }

  async context(log: (m: string) => void): Promise<StepContext> {
    if (!this.facts) {
      let packages: string[] | undefined;
      try {
        packages = wantedPackages({ host: this.host });
      } catch {
        // a bad vars.packages is reported by the packages step itself
      }
      this.facts = await gatherFacts(this.t, { packages });
    }
    return { host: this.host, t: this.t, facts: this.facts, check: !!this.opts.check, offline: !!this.opts.offline, log, plan: this.plan };
  }

  /** the facts, once a context was opened */
  get knownFacts(): HostFacts | undefined {
    return this.facts;
  }

  close(): Promise<void> {
    return this.t.close();
  }
}
