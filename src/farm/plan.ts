// From an inventory to what each host should run: the resolved topology, the wiring (one
// NodeConfig per node process, addressed by inventory addresses, the local sender by the control
// machine's address as the hosts reach it), and a HostPlan per host.
import { createSocket } from 'node:dgram';
import { loadHosts, loadInventory } from '../inventory/load.js';
import type { HostSpec, HostsInventory, Inventory } from '../inventory/types.js';
import { buildBundle } from '../provision/bundle.js';
import { SECRET_PATH, instanceName } from '../provision/layout.js';
import { farmSecret } from './secret.js';
import { knownAnswers } from './known-answer.js';
import { importedGraphs } from './imported-graphs.js';
import { ORT_CURRENT } from '../engine/builds.js';
import type { HostPlan } from '../provision/types.js';
import { resolveFarm } from '../topology/resolve.js';
import type { ResolvedFarm } from '../topology/types.js';
import { wireTopology, type Wiring } from '../topology/wiring.js';
import type { Arch } from '../inventory/types.js';
import { projectRoot, stateDirOf, type FarmOptions } from './options.js';
import { join } from 'node:path';

export interface FarmPlan {
  inv: Inventory;
  farm: ResolvedFarm;
  wiring: Wiring;
  /** the control machine's address as the hosts see it */
  controlAddress: string;
  /** every remote (or local: true) host of the inventory, in inventory order */
  hosts: HostSpec[];
  plans: Map<string, HostPlan>;
  /** the farm secret (hex) */
  secret: string;
}

/**
 * The local address the kernel would use to reach `address`: a UDP "connect" only picks the
 * route, it sends no packet.
 */
export function localAddressToward(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.on('error', (e) => {
      s.close();
      reject(e);
    });
    s.connect(9, address, () => {
      const a = s.address().address;
      s.close();
      resolve(a);
    });
  });
}

export async function planFarm(o: FarmOptions): Promise<FarmPlan> {
  return planFarmFor(loadInventory(o.inventoryFile), o);
}

/** The plan of an inventory already loaded (or derived: `run --adapt` plans for the hosts still alive). */
export async function planFarmFor(inv: Inventory, o: FarmOptions): Promise<FarmPlan> {
  const farm = resolveFarm(inv);
  const hosts = inv.hosts;
  const remote = hosts.find((h) => !h.local && !h.jump);
  const controlAddress = o.controlAddress ?? process.env.PIFARM_CONTROL_ADDRESS ?? (remote ? await localAddressToward(remote.address) : '127.0.0.1');
  const addresses: Record<string, string> = Object.fromEntries(hosts.map((h) => [h.name, h.address]));
  if (!addresses.local) addresses.local = controlAddress;
  const imported = inv.farm.modelsDir ? importedGraphs(inv.farm.modelsDir, farm.model, farm.stages) : undefined;
  const wiring = wireTopology({
    ...(imported ? { graphs: (k: number, shard: number) => imported.graphs[k]![shard]!, maxMessageBytes: imported.maxMessageBytes } : {}),
    model: farm.model,
    stages: farm.stages,
    placements: farm.placements,
    addresses,
    sender: farm.sender,
    engine: inv.farm.engine,
    threads: inv.farm.threads,
    seed: inv.farm.seed,
    secretFile: SECRET_PATH,
  });
  const cacheDir = join(stateDirOf(o), 'bundles');
  // prebuilt bundles (tests, benchmarks) by "arch:module", or by arch for the usual build
  const bundle = (arch: string, module: string) => {
    const given = o.bundles?.[`${arch}:${module}`] ?? (module === ORT_CURRENT.module ? o.bundles?.[arch] : undefined);
    return given ? Promise.resolve(given) : buildBundle(projectRoot(), arch as Arch, cacheDir, module);
  };
  // an imported model's known answers come from the stage graphs the hosts get
  const graphFiles = new Map((imported?.files.flat() ?? []).map((f) => [f.path, f.bytes]));
  const knownAnswer = knownAnswers(stateDirOf(o), 2, (cfg) => (cfg.graph ? graphFiles.get(cfg.graph.file) : undefined));
  const secret = farmSecret(o);
  const peers = [...new Set([...hosts.map((h) => h.address), controlAddress])];
  const plans = new Map<string, HostPlan>();
  for (const h of hosts) {
    const nodes = farm.placements
      .map((p, i) => ({ p, config: wiring.nodes[i]! }))
      .filter(({ p }) => p.host === h.name)
      .map(({ p, config }) => ({ instance: instanceName(p.role, p.replica, p.shard), config }));
    // the sender's result port too when the sender runs here: the last stage sends to it
    const ports = [...nodes.map((n) => n.config.listen.port), ...(farm.sender.host === h.name ? [farm.sender.port] : [])];
    const plan: HostPlan = { nodes, peers: peers.filter((a) => a !== h.address), ports, bundle, secret, engine: inv.farm.engine, knownAnswer };
    if (imported) {
      const mine = [...new Set(farm.placements.filter((p) => p.host === h.name).map((p) => imported.files[p.stageIndex]![p.shard]!))];
      if (mine.length) plan.graphs = mine;
    }
    if (o.readyTimeoutMs !== undefined) plan.readyTimeoutMs = o.readyTimeoutMs;
    plans.set(h.name, plan);
  }
  return { inv, farm, wiring, controlAddress, hosts, plans, secret };
}

/**
 * What `provision` needs: the hosts, and the farm's node ports where the farm resolves. Provision
 * sets a host up (packages, runtime, user, unit); a farm section that is missing or does not fit
 * these hosts yet is deploy's concern, so it costs provision only the firewall rules, which deploy
 * opens once the farm resolves.
 */
export async function planProvision(o: FarmOptions): Promise<FarmPlan | HostsPlan> {
  const hostsInv = loadHosts(o.inventoryFile);
  try {
    return await planFarmFor(loadInventory(o.inventoryFile), o);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0]!;
    const plans = new Map<string, HostPlan>(hostsInv.hosts.map((h) => [h.name, { nodes: [], peers: [], ports: [], farmProblem: why }]));
    return { inv: hostsInv, hosts: hostsInv.hosts, plans };
  }
}

/** The plan of a hosts-only command: no farm, no node on any host. */
export interface HostsPlan {
  inv: HostsInventory;
  hosts: HostSpec[];
  plans: Map<string, HostPlan>;
}

/** The hosts named by --limit (host or group names), in inventory order; a wrong name lists the valid ones. */
export function limitHosts(inv: HostsInventory, hosts: HostSpec[], limit: string[] | undefined): HostSpec[] {
  if (!limit || limit.length === 0) return hosts;
  const names = new Set<string>();
  for (const l of limit) {
    const group = inv.groups[l];
    if (group) group.forEach((n) => names.add(n));
    else if (hosts.some((h) => h.name === l)) names.add(l);
    else throw new Error(`--limit: no host or group named "${l}" in ${inv.file}; hosts: ${hosts.map((h) => h.name).join(', ')}; groups: ${Object.keys(inv.groups).join(', ') || '(none)'}`);
  }
  return hosts.filter((h) => names.has(h.name));
}
