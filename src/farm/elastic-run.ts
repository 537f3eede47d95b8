// `pifarm run --elastic`: the sender on this machine streams into topologies the controller starts,
// moves and stops on the inventory's hosts over SSH (elastic-ssh.ts), while the inventory file is
// watched for hosts that join (elastic-join.ts). The farm's own units are left as they are.
import { streamElastic } from '../elastic/stream.js';
import type { ElasticPolicy } from '../elastic/decide.js';
import type { SenderOptions } from '../runtime/sender.js';
import type { SenderReport } from '../runtime/sender-report.js';
import type { LiveView } from '../runtime/live-view.js';
import type { StageSpec } from '../model/spec.js';
import type { MoveRecord } from '../report/types.js';
import { SshElasticDriver } from './elastic-ssh.js';
import { watchInventoryForJoins } from './elastic-join.js';
import type { FarmOptions } from './options.js';
import type { FarmPlan } from './plan.js';
import { FarmError } from './runner.js';

export interface ElasticFarmOptions {
  /** how the hosts are reached (known hosts, accepted keys, state dir) */
  farm: FarmOptions;
  policy?: Partial<ElasticPolicy>;
}

export interface ElasticFarmStream {
  sent: SenderReport;
  /** the last topology */
  stages: StageSpec[];
  moves: MoveRecord[];
  /** the last topology's processes by the host that ran them */
  hostNames: Record<string, string>;
}

/** Why this farm cannot run elastic, in words that say what to change; undefined when it can. */
export function elasticProblem(plan: FarmPlan): string | undefined {
  const file = plan.inv.file;
  if (plan.inv.farm.modelsDir && !['alexnet', 'vgg16'].includes(plan.farm.model)) return `${file}: farm.model: ${plan.farm.model} is an imported model; --elastic re-plans the built-in alexnet and vgg16 only for now (its drivers do not yet send a new topology's stage graphs to the hosts as the farm moves)`;
  const devices = plan.hosts.filter((h) => !h.local && h.name !== plan.farm.sender.host).length;
  const processes = plan.farm.placements.length;
  if (devices < processes) return `${file}: --elastic runs one node process per host, and ${plan.farm.topologyName} has ${processes} for ${devices} host(s); add hosts or choose a smaller topology (farm.topology)`;
  return undefined;
}

export async function streamElasticFarm(plan: FarmPlan, e: ElasticFarmOptions, senderOptions: Omit<SenderOptions, 'listen'>, live: LiveView | undefined, log: (m: string) => void): Promise<ElasticFarmStream> {
  const problem = elasticProblem(plan);
  if (problem) throw new FarmError(problem);
  const driver = new SshElasticDriver({ plan, o: e.farm, log });
  const watch = watchInventoryForJoins(plan, e.farm, driver, log);
  // the first stage and its shards are each topology's (the controller's), not the farm's deployed one
  const rest: Omit<SenderOptions, 'listen' | 'first'> & { first?: unknown } = { ...senderOptions };
  delete rest.first;
  delete rest.lastShards;
  try {
    const s = await streamElastic({ model: plan.farm.model, stages: plan.farm.stages, driver, listen: { host: plan.controlAddress, port: plan.farm.sender.port }, log, ...(e.policy ? { policy: e.policy } : {}), ...(live ? { live } : {}) }, rest);
    return { sent: s.sent, stages: s.stages, moves: s.moves, hostNames: Object.fromEntries(s.nodes.map((n) => [n.name, n.device])) };
  } finally {
    watch.close();
  }
}
