// Why a plan looks the way it does, in sentences a user can check against the table: one line
// per decision (whole-model replication, a split dense layer, replicas, spare devices, idle ones).
import { loadModelSpec } from '../model/spec.js';
import { stageInfos } from '../model/shapes.js';
import { MB, PAGING_THRESHOLD, stageCost, usableMb, type CostModel, type DeviceProfile } from './cost-model.js';
import type { Plan } from './plan.js';

const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;

export function explainPlan(plan: Plan, profiles: DeviceProfile[], spareGiven: Map<number, number>, cm: CostModel): string[] {
  const spec = loadModelSpec(plan.model);
  const e = plan.evaluation;
  const out: string[] = [];
  if (plan.stages.length === 1) {
    const s = e.stages[0]!;
    out.push(
      `the whole model fits one ${s.device} (${s.memoryMb.toFixed(0)} of ${usableMb(profiles[0]!)} MB usable), so every node runs all of it: no transfers between stages, and each replica adds ${(1 / s.serviceS).toFixed(2)} IPS`,
    );
  }
  plan.stages.forEach((stage, i) => {
    const s = e.stages[i]!;
    const d = profiles[i]!;
    if (stage.shards > 1) {
      const whole = stageCost(stageInfos(spec, [{ ...stage, replicas: 1, shards: 1 }])[0]!, d, cm);
      const why = !whole.fits
        ? `whole, its ${whole.weightsMb.toFixed(0)} MB of weights do not fit a ${d.name}`
        : whole.pages
          ? `whole, its ${whole.weightsMb.toFixed(0)} MB of weights make a ${d.name} page (over ${(PAGING_THRESHOLD * usableMb(d)).toFixed(0)} MB) and it takes ${ms(whole.serviceS)}`
          : `whole, it takes ${ms(whole.serviceS)} per frame`;
      out.push(`${stage.role} is split into ${stage.shards} shards (model parallelism): ${why}; a shard holds ${s.weightsMb.toFixed(0)} MB and takes ${ms(s.serviceS)}`);
    }
    if (stage.replicas > 1) {
      const extra = spareGiven.get(i) ?? 0;
      out.push(
        `${stage.role} runs ${stage.replicas} replicas (data parallelism): ${ms(s.serviceS)} per frame each, ${s.ips.toFixed(2)} IPS together${extra ? `; ${extra} of them are spare devices given to the slowest stage (they add no predicted IPS past the bound)` : ''}`,
      );
    }
  });
  if (e.bottleneck.kind === 'network') out.push(`the shared medium limits the farm: ${(e.networkBytesPerFrame / MB).toFixed(2)} MB cross it per frame; fewer bytes between stages or a faster network would help`);
  if (plan.unusedDevices) out.push(`${plan.unusedDevices} device(s) stay idle: no stage can use them`);
  return out;
}
