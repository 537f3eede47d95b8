// `npm run bench -- farm-vpi (--preset P | --plan --model M --devices N) [--emulate pi3] [--frames N]
// [--warmup N] [--rate MBIT] [--ram MB] [--headroom CORES] [--keep] [--out DIR]`: the farm benchmark
// (src/lab/bench-run.ts) on virtual Pis (real systemd-nspawn hosts with sshd, src/lab/vpi)
// emulated as Pis by the driver in farm-vpi-driver.ts: the farm provisioned, deployed and started
// over SSH, the frames streamed from this machine, the measured IPS set against the planner's
// prediction for the same Pis on a shared medium, and the report written. Prints the wall time of
// every phase. A benchmark, not a test: it runs minutes and needs root.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { processCount, type StageSpec } from '../src/model/spec.js';
import { chooseRunTopology, stagesText } from '../src/topology/choose.js';
import { topologyToYaml } from '../src/topology/file.js';
import { OS_RESERVED_MB } from '../src/topology/cost-model.js';
import { defaultFrames, formatBench, predictFor } from '../src/lab/bench-core.js';
import { deviceOf } from '../src/lab/bench-quota.js';
import { runBench } from '../src/lab/bench-run.js';
import { BRIDGE } from '../src/lab/vpi/cleanup.js';
import { findProfile, type PiProfile } from '../src/lab/emulate/profiles.js';
import { newRunId } from '../src/report/run-result.js';
import { VpiDriver } from './farm-vpi-driver.js';

const USAGE = 'usage: npm run bench -- farm-vpi (--preset P | --plan --model M --devices N) [--emulate pi3|pi4|pi5] [--frames N] [--warmup N] [--rate MBIT] [--ram MB] [--headroom CORES] [--keep] [--out DIR]';

interface Topology {
  model: string;
  name: string;
  stages: StageSpec[];
  /** the inventory's farm.topology: a preset name or a topology file */
  ref: string;
}

const stamp = () => new Date().toISOString().slice(11, 19);
const say = (m: string) => console.error(`${stamp()} farm-vpi: ${m}`);

function chooseTopology(v: Record<string, string | boolean | undefined>, profile: PiProfile, dir: string): Topology {
  if (!!v.preset === !!v.plan) throw new Error(`give exactly one of --preset and --plan\n${USAGE}`);
  const t = chooseRunTopology({
    ...(typeof v.preset === 'string' ? { preset: v.preset } : {}),
    ...(typeof v.model === 'string' ? { model: v.model } : {}),
    plan: !!v.plan,
    ...(v.devices !== undefined ? { devices: Number(v.devices) } : {}),
    // as `pifarm bench farm --plan` does: planned for the emulated Pi's speed and RAM
    device: deviceOf(profile),
  });
  if (!t.plan) return { ...t, ref: t.name };
  const file = join(dir, `${t.name}.yaml`);
  writeFileSync(file, topologyToYaml({ model: t.model, name: t.name, stages: t.stages, devices: Number(v.devices) }, [`planned for ${v.devices} ${profile.name} devices`]));
  say(`planned ${t.name}: ${stagesText(t.stages)}, predicted ${t.plan.evaluation.predictedIps.toFixed(3)} IPS${t.plan.unusedDevices ? `, ${t.plan.unusedDevices} device(s) left idle` : ''}`);
  return { ...t, ref: file };
}

function num(v: unknown, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number >= ${min}, got ${String(v)}`);
  return n;
}

export async function run(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' }, plan: { type: 'boolean' }, model: { type: 'string' }, devices: { type: 'string' },
      emulate: { type: 'string' }, frames: { type: 'string' }, warmup: { type: 'string' }, rate: { type: 'string' },
      keep: { type: 'boolean' }, out: { type: 'string' }, headroom: { type: 'string' }, ram: { type: 'string' },
    },
  });
  const base = findProfile(v.emulate ?? 'pi3');
  // --ram: a Pi with less (or more) memory, e.g. to see a stage fail at load as it would there
  const profile = v.ram === undefined ? base : { ...base, ramMb: Math.round(num(v.ram, 'ram', 0, OS_RESERVED_MB + 64)) };
  const rate = num(v.rate, 'rate', 300, 1);
  // Extra CPU per container, in cores, beyond its stage's quota: what a Pi's other cores give its
  // event loop, probes and OS while one core computes (the stage quota covers the compute only).
  const headroom = num(v.headroom, 'headroom', 0, 0);
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-bench-farm-vpi-'));
  const topo = chooseTopology(v, profile, dir);
  const frames = Math.round(num(v.frames, 'frames', defaultFrames(topo.model, topo.stages), 1));
  const warmup = Math.round(num(v.warmup, 'warmup', Math.max(1, Math.round(frames / 5)), 0));
  if (warmup >= frames) throw new Error(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
  const memoryMb = profile.ramMb - OS_RESERVED_MB;
  const runId = newRunId(`bench-vpi-${topo.name}`);
  say(`${topo.model} ${topo.name}: ${processCount(topo.stages)} virtual Pis as ${profile.name} (${memoryMb} MB for node + OS each), the sender on this machine, ${rate} Mbit/s shared medium; work dir ${dir}`);

  const driver = new VpiDriver({ runId, model: topo.model, stages: topo.stages, topologyRef: topo.ref, profile, rateMbit: rate, headroom, keep: !!v.keep, dir, say });
  const out = await runBench(
    {
      runId,
      model: topo.model,
      name: topo.name,
      stages: topo.stages,
      engine: 'onnx',
      profile,
      prediction: predictFor(topo.model, topo.stages, profile, { bandwidthMbit: rate, sharedMedium: true }),
      frames,
      warmup,
      reportsDir: v.out ?? 'reports',
      comparePaper: true,
      log: say,
    },
    driver,
  );
  const r = out.result;
  const e = out.emulated!;
  console.log(`emulated ${profile.name} on ${processCount(topo.stages)} virtual Pis: ${memoryMb} MB per Pi (OS included); this machine ${e.machine.gflops.toFixed(1)} / ${e.machine.denseGflops.toFixed(2)} GFLOPS per core`);
  console.log(`CPU quota per stage: ${topo.stages.map((s, i) => `${s.role} ${(e.quotaCores[i]! * 100).toFixed(2)}%`).join(', ')} of one core${headroom ? ` (${(headroom * 100).toFixed(1)}% headroom per Pi included)` : ''}; periods throttled: ${driver.throttledByHost()}`);
  console.log(`network: ${rate} Mbit/s shared medium on ${BRIDGE}, ${r.emulation?.latencyMs ? 'delay 3 ms' : 'no delay (no sch_netem on this kernel)'}`);
  const killed = driver.killedForMemory();
  if (killed.length) console.log(`killed for memory during the run (${memoryMb} MB per Pi): ${killed.join(', ')}`);
  for (const w of out.warnings) console.log(w);
  console.log(formatBench(r, { comparePaper: true, withHosts: true, jsonPath: out.jsonPath, htmlPath: out.htmlPath }));
  console.log(`\nphases: ${out.phases.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
  console.log(`total wall time: ${(out.totalMs / 1000).toFixed(1)} s`);
}
