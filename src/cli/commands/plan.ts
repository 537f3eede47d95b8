// `pifarm plan`: the Musical Chair planner. Chooses stage cuts, replicas and dense-layer shards for
// the devices at hand under the cost model (src/topology/cost-model.ts), explains the choice, and
// writes the topology YAML that farm.topology and `pifarm demo --topology` accept.
import { writeFileSync } from 'node:fs';
import { allOnControlMachine } from '../../inventory/control-machine.js';
import { numberFlag, parseFlags, UsageError, type CliCommand } from '../command.js';
import { table } from '../../report/text-table.js';
import { findPreset, modelNames } from '../../model/spec.js';
import { loadInventory } from '../../inventory/load.js';
import { PI3, PI4, evaluateTopology, type DeviceProfile, type Evaluation } from '../../topology/cost-model.js';
import { costModelOf, planTopology, type DeviceClass, type Plan, type PlanRequest } from '../../topology/plan.js';
import { inventoryClasses } from '../../topology/plan-inventory.js';
import { profileLocal } from '../../topology/profile.js';
import type { Inventory } from '../../inventory/types.js';
import type { ImportedToProfile } from '../../farm/profile-host.js';
import { topologyToYaml } from '../../topology/file.js';
import { chooseBuild } from '../../engine/builds.js';
import { localCpu } from '../../engine/index.js';
import { isImportedModel, loadImportedModel } from '../../model/imported.js';
import { planImported } from '../../topology/plan-imported.js';
import { evaluateImported } from '../../topology/imported-cost.js';
import { presetOnImported } from '../../topology/imported-preset.js';
import { profileImportedLocal } from '../../topology/profile-imported.js';
import { modelsDirOf } from '../model-import.js';

const HELP = `usage: pifarm plan --model ${modelNames().join('|')} --devices N [-i INVENTORY] [--mix pi3=N,pi4=M]
                   [--device-gflops G] [--ram-mb MB] [--bandwidth-mbit B] [--local]
                   [--max-latency-ms L] [--strict-memory] [--profile local|HOST]
                   [--preset NAME] [--json] [-o plan.yaml]

Chooses a topology for the devices at hand, as Musical Chair does, under a cost model: layer
time from MACs, activation and weight traffic (fitted to the paper's Pi 3 layer times), the shared
Wi-Fi medium, and memory. Search: exact dynamic programming over layer cuts, replicas and
dense-layer shards. Prints the stages, the predicted IPS and bottleneck, and the topology YAML.

  --devices         devices as the paper counts them: nodes plus the sender (which computes nothing)
  -i                plan for an inventory's hosts (their gflops and ram; the sender's host excluded)
  --mix             a mixed farm of node devices, e.g. pi3=6,pi4=2 (the sender comes on top)
  --device-gflops   effective GFLOPS of a device (default: Raspberry Pi 3, ${PI3.gflops})
  --ram-mb          RAM of a device in MB (default ${PI3.ramMb}; the OS keeps 324 MB)
  --bandwidth-mbit  shared Wi-Fi medium (default 300; give what iperf measures)
  --local           every process on this machine: no shared medium
  --max-latency-ms  only topologies whose predicted latency (one frame, empty pipeline) is at most this
  --strict-memory   a process must also hold twice all its weights while it starts (frameworks
                    that keep a copy while loading, e.g. Keras; engines not measured). Without it
                    a process must hold its measured peak (onnx engine, start-up included)
  --profile local   measure every layer with the engine on this machine and plan with those times
  --profile HOST    the same on an inventory host (-i) where pifarm is deployed (pifarm up),
                    reached as the farm commands reach it (--state-dir, --accept-new-key HOST,
                    --user-known-hosts as there)
  --preset NAME     also evaluate a paper preset under the same cost model (side by side)
  -o FILE           write the topology YAML there (else it is printed)
  --model NAME      may name an imported model (pifarm model import; --models DIR): planned the
                    same way over the ranges between its cut points (their MACs, weights and
                    activations from the import); --profile local|HOST times each range in the
                    engine there (the package is copied to HOST's ~/.cache/pifarm/models first);
                    --preset maps the paper's preset onto an imported AlexNet or VGG16`;

export const command: CliCommand = {
  name: 'plan',
  summary: 'choose a topology for N devices under a cost model (Musical Chair), or evaluate a preset',
  async run(argv) {
    const { values } = parseFlags(
      argv,
      {
        model: { type: 'string' },
        devices: { type: 'string' },
        inventory: { type: 'string', short: 'i' },
        mix: { type: 'string' },
        'device-gflops': { type: 'string' },
        'ram-mb': { type: 'string' },
        'bandwidth-mbit': { type: 'string' },
        local: { type: 'boolean' },
        'max-latency-ms': { type: 'string' },
        'strict-memory': { type: 'boolean' },
        profile: { type: 'string' },
        'state-dir': { type: 'string' },
        'accept-new-key': { type: 'string', multiple: true },
        'user-known-hosts': { type: 'boolean' },
        preset: { type: 'string' },
        json: { type: 'boolean' },
        output: { type: 'string', short: 'o' },
        models: { type: 'string' },
      },
      HELP,
      false,
    );
    const preset = values.preset ? findPreset(values.preset) : undefined;
    const inv = values.inventory ? loadInventory(values.inventory) : undefined;
    const model = values.model ?? inv?.farm.model ?? preset?.model;
    if (!model) throw new UsageError(`plan: give --model (${modelNames().join(' or ')})\n\n${HELP}`);
    const modelsDir = inv?.farm.modelsDir ?? modelsDirOf(values.models);
    const pkg = !modelNames().includes(model) && isImportedModel(modelsDir, model) ? loadImportedModel(modelsDir, model) : undefined;
    if (!modelNames().includes(model) && !pkg) throw new UsageError(`--model: unknown model "${model}"; valid models: ${modelNames().join(', ')}, or one imported into ${modelsDir} (pifarm model import)`);
    if (preset && !pkg && preset.model !== model) throw new UsageError(`--preset ${preset.name} is a ${preset.model} preset, not ${model}`);

    let profile: DeviceProfile = PI3;
    if (values.profile === 'local' && pkg) {
      console.error(`profiling every range between ${model}'s cut points in onnxruntime on this machine ...`);
      profile = await profileImportedLocal(modelsDir, pkg, { ...(inv ? { engine: inv.farm.engine } : {}), log: values.json ? undefined : (m) => console.error(`pifarm: ${m}`) });
    } else if (values.profile === 'local') {
      console.error(`profiling every ${model} layer with the engine on this machine ...`);
      profile = await profileLocal(model, inv ? { engine: inv.farm.engine } : {});
    } else if (values.profile) {
      if (!inv) throw new UsageError(`--profile ${values.profile}: give the inventory the host is in with -i`);
      profile = await profileHost(inv, values.profile, model, values, pkg ? { modelsDir, pkg } : undefined);
    }
    const gflops = values['device-gflops'] !== undefined ? numberFlag(values['device-gflops'], 'device-gflops', 0, { min: 0.001 }) : undefined;
    const ramMb = values['ram-mb'] !== undefined ? numberFlag(values['ram-mb'], 'ram-mb', 0, { min: 400, integer: true }) : undefined;
    if (gflops !== undefined || ramMb !== undefined) profile = { ...profile, gflops: gflops ?? profile.gflops, ramMb: ramMb ?? profile.ramMb, name: gflops !== undefined ? `${gflops}gflops` : profile.name };
    // an inventory of local hosts only runs on one machine: no shared medium to bound it
    const oneMachine = values.local || (inv !== undefined && allOnControlMachine(inv.hosts));
    const req: PlanRequest = { model, profile, sharedMedium: !oneMachine, strictMemory: !!values['strict-memory'] };
    if (values['max-latency-ms'] !== undefined) req.maxLatencyS = numberFlag(values['max-latency-ms'], 'max-latency-ms', 0, { min: 1 }) / 1000;
    if (values['bandwidth-mbit'] !== undefined) req.bandwidthMbit = numberFlag(values['bandwidth-mbit'], 'bandwidth-mbit', 300, { min: 0.001 });
    if (inv) req.classes = inventoryClasses(inv, profile);
    else if (values.mix) req.classes = parseMix(values.mix);
    else if (values.devices !== undefined) req.devices = numberFlag(values.devices, 'devices', 0, { min: 2, integer: true });
    else if (preset) req.devices = preset.devices;
    else throw new UsageError(`plan: give --devices N (nodes plus the sender), --mix or -i INVENTORY\n\n${HELP}`);

    const plan = pkg ? planImported(pkg, req) : planTopology(req);
    const presetDevice = req.classes ? req.classes[0]!.profile : profile;
    const presetEval = preset ? (pkg ? evaluateImported(pkg, presetOnImported(pkg, preset), costModelOf(req), presetDevice) : evaluateTopology(model, preset.stages, costModelOf(req), presetDevice)) : undefined;
    const header = [
      `written by pifarm plan: ${model} on ${plan.devices} devices (${plan.devices - 1} nodes + the sender)`,
      `predicted ${plan.evaluation.predictedIps.toFixed(3)} IPS; bottleneck: ${plan.evaluation.bottleneck.why}`,
      'use it as farm.topology in an inventory, or run it here: pifarm demo --topology <this file>',
    ];
    const yaml = topologyToYaml({ model, name: plan.name, stages: plan.stages, devices: plan.devices }, header, {
      ips: round(plan.evaluation.predictedIps),
      latencyS: round(plan.evaluation.latencyS),
      bottleneck: plan.evaluation.bottleneck.role ?? 'network',
      devices: plan.stageDevices,
    });
    if (values.output) writeFileSync(values.output, yaml);
    if (values.json) {
      console.log(JSON.stringify({ plan: { ...plan, yaml }, ...(presetEval ? { preset: { name: preset!.name, ...presetEval } } : {}) }, null, 2));
      return 0;
    }
    console.log(formatPlan(plan, req));
    if (presetEval) {
      console.log('');
      console.log(`preset ${preset!.name} (${preset!.devices} devices) under the same cost model:`);
      console.log(formatEvaluation(presetEval));
      const d = plan.evaluation.predictedIps / presetEval.predictedIps;
      console.log(`plan vs preset: ${plan.evaluation.predictedIps.toFixed(3)} vs ${presetEval.predictedIps.toFixed(3)} IPS (x${d.toFixed(2)})${plan.devices !== preset!.devices ? `, on ${plan.devices} vs ${preset!.devices} devices` : ''}`);
    }
    console.log('');
    if (values.output) console.log(`wrote ${values.output}; run it with: pifarm demo --topology ${values.output}`);
    else console.log(yaml.trimEnd());
    return 0;
  },
};

/** Runs the profiler on an inventory host, reached as the farm commands reach it. */
async function profileHost(inv: Inventory, name: string, model: string, values: { 'state-dir'?: string; 'accept-new-key'?: string[]; 'user-known-hosts'?: boolean }, imported?: ImportedToProfile): Promise<DeviceProfile> {
  const h = inv.hosts.find((x) => x.name === name);
  // this machine's build is known here; a remote host's follows from its CPU, there
  const build = h?.local ? chooseBuild(localCpu(), inv.farm.engine, h.name) : undefined;
  const engine = build ? `the ${build.engine} engine on ${name} (${build.id})` : inv.farm.engine === 'auto' ? `the engine build the CPU of ${name} gets` : `the ${inv.farm.engine} engine on ${name}`;
  if (h) console.error(`profiling every ${imported ? `range between ${model}'s cut points` : `${model} layer`} with ${engine} ...`);
  // loaded only here, so planning never depends on the SSH and farm modules
  const { profileInventoryHost } = await import('../../farm/profile-host.js');
  return profileInventoryHost(inv, name, model, {
    inventoryFile: inv.file,
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(values['accept-new-key'] ? { acceptNewKey: values['accept-new-key'].flatMap((x) => x.split(',')) } : {}),
    userKnownHosts: !!values['user-known-hosts'],
  }, imported);
}

function parseMix(text: string): DeviceClass[] {
  const known: Record<string, DeviceProfile> = { pi3: PI3, pi4: PI4 };
  return text.split(',').map((part) => {
    const m = /^\s*([a-z0-9]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || !known[m[1]!]) throw new UsageError(`--mix: expected device=count pairs like pi3=6,pi4=2 (devices: ${Object.keys(known).join(', ')}), got "${part}"`);
    return { profile: known[m[1]!]!, count: Number(m[2]) };
  });
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function formatEvaluation(e: Evaluation): string {
  const rows = e.stages.map((s) => [
    s.role,
    s.layers.length > 1 ? `${s.layers[0]}..${s.layers[s.layers.length - 1]}` : s.layers[0]!,
    s.device,
    String(s.replicas),
    String(s.shards),
    (s.serviceS * 1000).toFixed(0),
    s.ips.toFixed(2),
    `${s.memoryMb.toFixed(0)}${s.fits ? '' : ' (too big)'}${s.pages ? ' pages' : ''}`,
  ]);
  const net = Number.isFinite(e.networkIps) ? `${e.networkIps.toFixed(2)} IPS (${(e.networkBytesPerFrame / 1e6).toFixed(2)} MB per frame)` : 'none (one machine)';
  return [
    table(['role', 'layers', 'device', 'replicas', 'shards', 'ms/frame', 'IPS', 'MB/process'], rows),
    `network bound: ${net}`,
    `predicted: ${e.predictedIps.toFixed(3)} IPS, latency ${(e.latencyS * 1000).toFixed(0)} ms; ${e.fitsMemory ? 'every process fits its device' : 'SOME PROCESS DOES NOT FIT ITS DEVICE'}`,
    `bottleneck: ${e.bottleneck.why}`,
  ].join('\n');
}

function formatPlan(p: Plan, req: PlanRequest): string {
  const cm = costModelOf(req);
  return [
    `plan for ${p.model} on ${p.devices} devices (${p.devices - 1} nodes + the sender)${cm.sharedMedium ? `, ${cm.bandwidthMbit} Mbit/s shared medium` : ', one machine'}`,
    `search: ${p.search.method}; ${p.search.states} states, ${p.search.candidates} candidates, ${p.search.ms.toFixed(1)} ms`,
    p.unusedDevices ? `${p.unusedDevices} device(s) left idle: no stage of their class fits them` : '',
    formatEvaluation(p.evaluation),
    ...p.reasons.map((r) => `why: ${r}`),
  ]
    .filter(Boolean)
    .join('\n');
}

