// `npm run bench -- farm-vpi (--preset P | --plan --model M --devices N) [--emulate pi3] [--frames N]
// [--warmup N] [--rate MBIT] [--ram MB] [--headroom CORES] [--keep] [--out DIR]`: the farm benchmark on virtual Pis (real
// systemd-nspawn hosts with sshd, src/lab/vpi/harness.ts) emulated as Pis: each container's whole
// process tree in one group (the Pi's RAM less the OS; then the CPU quota of the role it runs),
// the shared Wi-Fi medium on the bridge, the farm provisioned, deployed and started over SSH, the
// frames streamed from this machine, the measured IPS set against the planner's prediction for the
// same Pis on a shared medium, and the report written. Prints the wall time of every phase.
// A dev tool (it needs the harness, which lives in test/), not a test: it runs minutes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startVirtualPis, type VirtualPis } from '../src/lab/vpi/harness.js';
import { loadModelSpec, processCount, type StageSpec } from '../src/model/spec.js';
import { chooseRunTopology, stagesText } from '../src/topology/choose.js';
import { topologyToYaml } from '../src/topology/file.js';
import { OS_RESERVED_MB } from '../src/topology/cost-model.js';
import { simpleCommand, type FarmOutcome } from '../src/farm/commands.js';
import { planFarm } from '../src/farm/plan.js';
import { projectRoot, type FarmOptions } from '../src/farm/options.js';
import { benchResult, benchTimeouts, defaultFrames, defaultWindow, formatBench, predictFor } from '../src/lab/bench-core.js';
import { deviceOf } from '../src/lab/bench-quota.js';
import { newRunId } from '../src/report/run-result.js';
import { buildBundle } from '../src/provision/bundle.js';
import { defaultSampleIds, runSender } from '../src/runtime/sender.js';
import { findProfile, type PiProfile } from '../src/lab/emulate/profiles.js';
import { applyNetEmulation, removeNetEmulation } from '../src/lab/emulate/network.js';
import { removeStaleGroups } from '../src/lab/emulate/cgroup.js';
import { writeRunReport } from '../src/report/write.js';
import { calibrateQuotas } from './farm-vpi-quota.js';
import { writeInventory } from '../src/lab/vpi/inventory.js';
import { farmNodes, groupMemory, limitContainers, nodeStats, peerTrouble, removeGroupsSync, removeNetEmulationSync, waitLoaded, type HostGroup } from './farm-vpi-hosts.js';

const BRIDGE = 'pfbr0';
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

/** Runs the phases in order, each announced and timed. */
class Phases {
  readonly times: [string, number][] = [];
  private readonly t0 = performance.now();
  async run<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    say(`${name} ...`);
    const t = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - t;
      this.times.push([name, ms]);
      say(`${name}: ${(ms / 1000).toFixed(1)} s`);
    }
  }
  totalMs(): number {
    return performance.now() - this.t0;
  }
}

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

function failIfFailed(r: FarmOutcome): void {
  if (!r.failed.length) return;
  const why = r.runs.filter((h) => h.failed).map((h) => `  ${h.host}: ${h.results.filter((s) => s.status === 'failed').map((s) => `${s.step}: ${s.detail ?? ''}`).join('; ')}`);
  throw new Error(`${r.command} failed on ${r.failed.join(', ')}:\n${why.join('\n')}`);
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
  const profile = v.ram === undefined ? base : { ...base, memoryMb: Math.round(num(v.ram, 'ram', 0, OS_RESERVED_MB + 64)) };
  const rate = num(v.rate, 'rate', 300, 1);
  // Extra CPU per container, in cores, beyond its stage's quota: what a Pi's other cores give its
  // event loop, probes and OS while one core computes (the stage quota covers the compute only).
  const headroom = num(v.headroom, 'headroom', 0, 0);
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-bench-farm-vpi-'));
  const topo = chooseTopology(v, profile, dir);
  const frames = Math.round(num(v.frames, 'frames', defaultFrames(topo.model, topo.stages), 1));
  const warmup = Math.round(num(v.warmup, 'warmup', Math.max(1, Math.round(frames / 5)), 0));
  if (warmup >= frames) throw new Error(`--warmup ${warmup} leaves no frame to measure out of --frames ${frames}`);
  const processes = processCount(topo.stages);
  const memoryMb = profile.memoryMb - OS_RESERVED_MB;
  const runId = newRunId(`bench-vpi-${topo.name}`);
  const startedAt = new Date().toISOString();
  const phases = new Phases();
  say(`${topo.model} ${topo.name}: ${processes} virtual Pis as ${profile.name} (${memoryMb} MB for node + OS each), the sender on this machine, ${rate} Mbit/s shared medium; work dir ${dir}`);

  let pis: VirtualPis | undefined;
  let groups: HostGroup[] = [];
  let netApplied = false;
  // Ctrl-C: the harness's own handler would end the process before any `finally` ran, so the
  // clean-up that must happen (containers, groups, the bridge's emulation) is done here, at once.
  const onSignal = (sig: NodeJS.Signals) => {
    say(`${sig}: tearing down`);
    if (netApplied) removeNetEmulationSync(BRIDGE);
    if (!v.keep) void pis?.teardown();
    if (!v.keep) removeGroupsSync(groups);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const stale = removeStaleGroups();
    if (stale) say(`removed ${stale} empty cgroup(s) left by interrupted runs`);
    // the release is built while the containers boot (one bundle, pinned: a rebuild of the tree meanwhile changes nothing)
    const bundle = buildBundle(projectRoot(), 'x64', join(tmpdir(), 'pifarm-bench-farm-vpi-bundles'), 'onnx');
    bundle.catch(() => undefined);
    pis = await phases.run(`boot ${processes} virtual Pis`, () => startVirtualPis(processes, { persist: !!v.keep }));
    const hosts = pis.hosts.map((h) => h.name);
    say(`boot per host: ${Object.entries(pis.bootMs).map(([h, ms]) => `${h} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
    groups = await phases.run('limit memory per container', () => limitContainers(hosts, runId, memoryMb));
    say(`${groups.map((g) => `${g.host} ${g.moved} processes`).join(', ')} in groups of ${memoryMb} MB`);
    const b = await phases.run('bundle', () => bundle);
    say(`bundle ${b.hash}: ${(b.bytes / 2 ** 20).toFixed(1)} MB packed, ${(b.rawBytes / 2 ** 20).toFixed(0)} MB unpacked`);

    const inventoryFile = writeInventory(dir, pis, topo.ref, { hosts: processes, model: topo.model });
    const opts: FarmOptions = { inventoryFile, stateDir: join(dir, 'state'), logsDir: join(dir, 'logs'), offline: true, json: true, concurrency: 16, bundles: { x64: b } };
    for (const cmd of ['provision', 'deploy', 'start'] as const) await phases.run(cmd, async () => failIfFailed(await simpleCommand(cmd, opts)));
    const plan = await planFarm(opts);
    const nodes = farmNodes(plan);
    const secret = Buffer.from(plan.secret, 'hex');
    const loaded = await phases.run('load (every node ready)', () =>
      waitLoaded({ nodes, groups, pis: pis!, maxMessageBytes: plan.wiring.maxMessageBytes, secret, timeoutMs: 300_000, memoryMb, profile: profile.name }),
    );
    say(`load time per node: ${nodes.map((n) => `${n.host} ${n.process} ${((loaded.get(n.process)?.loadMs ?? NaN) / 1000).toFixed(1)} s`).join(', ')}`);
    say(`memory charged per container: ${groups.map((g) => {
      const m = groupMemory(g.group);
      return `${g.host} ${m ? `${m.usedMb.toFixed(0)} MB (${m.shmemMb.toFixed(0)} MB of files on its RAM disk)` : '?'}`;
    }).join(', ')}`);

    const window = defaultWindow(topo.stages);
    const prediction = predictFor(topo.model, topo.stages, profile, { bandwidthMbit: rate, sharedMedium: true });
    const { failTimeoutMs, frameTimeoutMs } = benchTimeouts(prediction, window);
    const senderBase = {
      input: loadModelSpec(topo.model).input,
      first: plan.wiring.first,
      lastShards: plan.wiring.lastShards,
      listen: { host: plan.controlAddress, port: plan.farm.sender.port },
      maxMessageBytes: plan.wiring.maxMessageBytes,
      frameTimeoutMs,
      failTimeoutMs,
      secret,
      seed: 1,
    };
    const statsNow = async () => (await nodeStats(nodes, plan.wiring.maxMessageBytes, secret)).map((x) => x.stats);
    const quota = await phases.run('warm-up, calibration (no quota), CPU quotas', () =>
      calibrateQuotas({
        model: topo.model,
        stages: topo.stages,
        profile,
        nodes,
        groups,
        headroom,
        stats: statsNow,
        // other wire ids than the measured run's, and other frames (seed 2)
        stream: (n, w, idBase) => runSender({ ...senderBase, seed: 2, frames: n, warmup: 0, window: w, sampleIds: [], idBase, log: (m) => say(`calibration: ${m}`) }),
        log: say,
      }),
    );
    say(`quota per container: ${groups.map((g) => `${g.host} ${((quota.perHost.get(g.host) ?? 0) * 100).toFixed(2)}%`).join(', ')} of a core`);
    say(`${quota.fit.ok ? '' : 'WARNING: '}${quota.fit.message}`);

    const net = await phases.run('shared medium', async () => {
      netApplied = true;
      return applyNetEmulation({ bridge: BRIDGE, rateMbit: rate, delayMs: 3, lossPct: 0 });
    });
    say(`${rate} Mbit/s shared by ${net.ports.length} ports through one queue${net.netem ? ', 3 ms delay' : ''}`);
    for (const w of net.warnings) say(`note: ${w} (carrying on without the delay)`);

    say(`first-stage replica called down after ${(failTimeoutMs / 1000).toFixed(1)} s without an answer; a frame lost after ${(frameTimeoutMs / 1000).toFixed(0)} s`);
    const beforeRun = await statsNow();
    const sent = await phases.run(`stream ${frames} frames (${warmup} warm-up, ${window} in flight)`, () =>
      runSender({
        ...senderBase,
        frames,
        warmup,
        window,
        sampleIds: defaultSampleIds(frames, 1),
        idBase: Date.now() * 1000,
        keepTimeline: true,
        log: (m) => say(m),
      }),
    );
    const stats = await nodeStats(nodes, plan.wiring.maxMessageBytes, secret);
    const trouble = sent.dropped ? await peerTrouble(pis, [...new Set(nodes.map((n) => n.host))]) : [];
    const throttled = groups.map((g) => `${g.host} ${g.group.cpuThrottling().throttled}`);
    const oomDuringRun = groups.filter((g) => g.group.oomKills() > 0).map((g) => `${g.host} (${nodes.filter((n) => n.host === g.host).map((n) => n.process).join(', ')})`);

    const result = benchResult({
      runId,
      startedAt,
      model: topo.model,
      topology: topo.name,
      engine: 'onnx',
      stages: topo.stages,
      sent,
      nodes: { before: beforeRun, after: stats.map((x) => x.stats) },
      prediction,
      emulation: { profile, network: { bandwidthMbit: rate, latencyMs: net.netem ? 3 : 0, lossPct: 0, emulated: true }, quotaCores: quota.perStage.map((q) => q + headroom) },
      hostNames: Object.fromEntries(nodes.map((n) => [n.process, n.host])),
    });
    const { jsonPath, htmlPath } = writeRunReport(result, v.out ?? 'reports', { comparePaper: true, senderHost: 'sender' });

    const r = result;
    console.log(`emulated ${profile.name} on ${nodes.length} virtual Pis: ${memoryMb} MB per Pi (OS included); this machine ${quota.speeds.gflops.toFixed(1)} / ${quota.speeds.denseGflops.toFixed(2)} GFLOPS per core`);
    console.log(`CPU quota per stage: ${topo.stages.map((s, i) => `${s.role} ${(quota.perStage[i]! * 100).toFixed(2)}%`).join(', ')} of one core${headroom ? ` + ${(headroom * 100).toFixed(1)}% headroom per Pi` : ''} (${quota.fit.message}); periods throttled: ${throttled.join(', ')}`);
    console.log(`network: ${rate} Mbit/s shared medium on ${BRIDGE}, ${net.netem ? 'delay 3 ms' : 'no delay (no sch_netem on this kernel)'}`);
    if (oomDuringRun.length) console.log(`killed for memory during the run (${memoryMb} MB per Pi): ${oomDuringRun.join(', ')}`);
    if (sent.dropped) {
      // where the frames went: each node's own counters (a frame lost in the farm is counted where it was dropped)
      console.log(`dropped ${sent.dropped} frame(s); per node received/computed, refused, queue full, missing shard, not sent:`);
      for (const { node: n, stats: s } of stats) console.log(`  ${n.host} ${n.process}: ${s.received}/${s.computed}, ${s.refused}, ${s.queueDropped}, ${s.mergeDropped}, ${s.sendFailed}`);
      if (trouble.length) console.log(`what the nodes logged about their peers:\n${trouble.map((l) => `  ${l}`).join('\n')}`);
    }
    console.log(formatBench(r, { comparePaper: true, withHosts: true, jsonPath, htmlPath }));
  } finally {
    const problems: string[] = [];
    await phases.run('tear down', async () => {
      if (netApplied) await removeNetEmulation(BRIDGE).catch((e: Error) => problems.push(e.message));
      if (v.keep) {
        // the groups stay with their containers; the CPU quota goes, so the kept Pis are usable
        for (const g of groups) {
          try {
            g.group.setCpuLimit(undefined);
          } catch (e) {
            problems.push((e as Error).message);
          }
        }
        if (pis) say(`--keep: ${pis.hosts.map((h) => `${h.name} ${h.address}`).join(', ')} left running in their limit groups (key ${pis.keyPath}; inventory ${join(dir, 'farm.yaml')}); "node dist/src/lab/vpi/cli.js down" removes them, a later run the empty groups`);
      } else {
        await pis?.teardown();
        problems.push(...removeGroupsSync(groups));
        rmSync(dir, { recursive: true, force: true });
      }
    });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    for (const p of problems) say(`tear-down: ${p}`);
    console.log(`\nphases: ${phases.times.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`).join('; ')}`);
    console.log(`total wall time: ${(phases.totalMs() / 1000).toFixed(1)} s`);
  }
}
