// One stream under the live musical chair, whatever the farm: the controller starts the first
// topology through the driver, the sender streams into it, the controller moves it while frames
// flow, and at the end every topology still running is stopped. The local demo (lab/) and
// `pifarm run --elastic` over SSH (farm/) differ only in their driver and what they play on it.
import { Sender } from '../runtime/sender.js';
import type { SenderOptions } from '../runtime/sender-options.js';
import type { SenderReport } from '../runtime/sender-report.js';
import type { Endpoint } from '../runtime/config.js';
import type { NodeStats } from '../runtime/protocol.js';
import type { LiveView } from '../runtime/live-view.js';
import type { StageSpec } from '../model/spec.js';
import type { MoveRecord } from '../report/types.js';
import { stagesText } from '../topology/choose.js';
import { ElasticController } from './controller.js';
import type { ElasticPolicy } from './decide.js';
import type { DeployedNode, Deployment, ElasticDriver } from './driver.js';

export interface ElasticStreamOptions {
  model: string;
  stages: StageSpec[];
  driver: ElasticDriver;
  /** where the sender listens for results (the last stage of every topology sends there) */
  listen: Endpoint;
  policy?: Partial<ElasticPolicy>;
  log: (m: string) => void;
  live?: LiveView;
  /** once the first topology runs and the stream is about to start: what to play on the farm (timers to clear at the end) */
  onStreaming?: () => NodeJS.Timeout[];
}

export interface ElasticStream {
  sent: SenderReport;
  /** the last topology's nodes after the run */
  stats: NodeStats[];
  stages: StageSpec[];
  /** the last topology's processes and their devices */
  nodes: DeployedNode[];
  moves: MoveRecord[];
}

export async function streamElastic(o: ElasticStreamOptions, senderOptions: Omit<SenderOptions, 'first' | 'listen'>): Promise<ElasticStream> {
  const { driver } = o;
  // the live view follows the topology that runs
  const onDeploy = o.live
    ? (d: Deployment, m?: MoveRecord) =>
        o.live!.watch(d.nodes.map((n) => ({ name: n.name, role: n.role, host: n.device, endpoint: n.endpoint })), {
          maxMessageBytes: driver.maxMessageBytes,
          topology: stagesText(d.stages),
          ...(driver.secret ? { secret: driver.secret } : {}),
          ...(m ? { move: `at ${(m.atMs / 1000).toFixed(1)} s, ${m.why}: ${m.from} => ${m.to} (predicted ${m.predictedBefore.toFixed(2)} -> ${m.predictedAfter.toFixed(2)} IPS)` } : {}),
        })
    : undefined;
  const ctl = new ElasticController({ model: o.model, driver, log: o.log, ...(o.policy ? { policy: o.policy } : {}), ...(onDeploy ? { onDeploy } : {}) });
  try {
    await ctl.start(o.stages);
  } catch (e) {
    await driver.close?.();
    throw e;
  }
  const sender = new Sender({ ...senderOptions, first: ctl.deployment.first, listen: o.listen, keepInputs: true, maxMessageBytes: driver.maxMessageBytes, ...(driver.secret ? { secret: driver.secret } : {}), log: o.log });
  const timers = o.onStreaming?.() ?? [];
  try {
    const running = sender.run();
    ctl.attach(sender);
    const sent = await running;
    const stats = await ctl.deployment.stats().catch(() => []);
    return { sent, stats, stages: ctl.deployment.stages, nodes: ctl.deployment.nodes, moves: ctl.moves };
  } finally {
    for (const t of timers) clearTimeout(t);
    await ctl.stop();
  }
}
