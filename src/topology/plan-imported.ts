// `topology: auto` and `pifarm plan --model NAME` for an imported model: the same exact search as
// the built-in models (plan.ts, plan-search.ts) over the ranges between the graph's cut points,
// each costed from what the import recorded (imported-cost.ts): MACs, weights, activation
// traffic, memory; a range that is one dense layer may be split into shards. Stages are named s0,
// s1, ... (a graph's tensor names are not role names).
import type { ImportedModel } from '../model/imported.js';
import { processCount, type StageSpec } from '../model/spec.js';
import { MB } from './cost-model.js';
import { evaluateImported, importedSegments } from './imported-cost.js';
import { searchMethod, searchPlan, type Plan, type PlanRequest } from './plan.js';
import { assignHosts } from './plan-pick.js';

export function planImported(m: ImportedModel, req: Omit<PlanRequest, 'model'>): Plan {
  const t0 = performance.now();
  const { sp, picked, spareGiven, classes, cm, states, candidates } = searchPlan(importedSegments(m), { ...req, model: m.name }, m.name);
  const stages: StageSpec[] = picked.map((p, i) => ({ role: `s${i}`, layers: [m.cuts[p.from]!.tensor, m.cuts[p.to]!.tensor], replicas: p.replicas, shards: p.shards }));
  const profiles = picked.map((p) => classes[p.cls]!.profile);
  const total = sp.counts.reduce((a, b) => a + b, 0);
  const evaluation = evaluateImported(m, stages, cm, profiles);
  const reasons = [
    `${m.name} is cut only at its ${m.cuts.length - 2} cut points (tensors every path from input to output passes through); the search tried every run of the ${sp.L} ranges between them`,
    ...evaluation.stages.filter((s) => s.shards > 1).map((s) => `${s.role} (${s.layers.join('..')}) is one dense layer of ${s.weightsMb.toFixed(1)} MB per shard, split in ${s.shards}: each process holds and reads 1/${s.shards} of its weights`),
    ...[...spareGiven].map(([at, n]) => `${stages[at]!.role} got ${n} more replica(s) from the devices the optimum left over (the slowest stage of their class)`),
    `bottleneck: ${evaluation.bottleneck.why}`,
    `memory per process: ${evaluation.stages.map((s) => `${s.role} ${s.memoryMb.toFixed(0)} MB`).join(', ')} (every weight of an imported stage is an onnxruntime initializer; ${(m.params * 4 / MB).toFixed(0)} MB of weights in all)`,
  ];
  const plan: Plan = {
    model: m.name,
    name: `plan-${m.name}-${total + 1}`,
    stages,
    stageDevices: profiles.map((p) => p.name),
    evaluation,
    devices: total + 1,
    unusedDevices: total - processCount(stages),
    search: { method: searchMethod(sp, 'cut-point'), states, candidates, ms: 0 },
    reasons,
  };
  const hosts = assignHosts(classes, picked);
  if (hosts) plan.hosts = hosts;
  plan.search.ms = performance.now() - t0;
  return plan;
}
