// `npm run bench -- engine --arch arm64 [--cpu cortex-a72,...]`: every engine build that may run on
// the architecture, timed inside ARM virtual Pis (qemu-user emulating the Pi's CPU), and on this
// machine. Times inside a virtual Pi are QEMU TIMES: many times a Pi's and no measure of its
// speed; what they tell is which build runs on which CPU, and how builds compare under one CPU.
// Each build runs in a process of its own, builds interleaved in rounds.
import { startVirtualPis } from '../src/lab/vpi/harness.js';
import { ENGINE_BUILDS, type BuildArch } from '../src/engine/builds.js';
import { projectRoot } from '../src/farm/options.js';
import { run as runCmd } from '../src/lab/vpi/system.js';
import { shq } from '../src/transport/shell.js';

interface Probe {
  ok: boolean;
  engine?: string;
  loadMs?: number;
  frameMs?: number[];
  failure?: string;
}

const SIGNALS: Record<number, string> = { 4: 'SIGILL (illegal instruction)', 11: 'SIGSEGV (segmentation fault)', 6: 'SIGABRT', 7: 'SIGBUS' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function parseProbe(code: number, stdout: string, stderr: string): Probe {
  if (code === 0) {
    const j = JSON.parse(stdout.trim().split('\n').pop()!) as { engine: string; loadMs: number; frameMs: number[] };
    return { ok: true, engine: j.engine, loadMs: j.loadMs, frameMs: j.frameMs };
  }
  // a shell reports a child killed by signal N as 128 + N
  const failure = code > 128 ? SIGNALS[code - 128] ?? `signal ${code - 128}` : `exit ${code}: ${stderr.trim().split('\n').pop()}`;
  return { ok: false, failure };
}

export interface ArmBenchOptions {
  arch: 'arm64' | 'armhf';
  cpus: string[];
  model: string;
  rounds: number;
  frames: number;
  threads: number;
  hostCpuinfo: boolean;
}

export async function runOnArm(o: ArmBenchOptions): Promise<void> {
  const builds = ENGINE_BUILDS.filter((b) => !b.failsOn[o.arch as BuildArch]);
  const root = projectRoot();
  const probe = (build: string) => `cd ${shq(root)} && node dist/bench/engine-probe.js ${shq(o.model)} ${shq(build)} ${o.frames} ${o.threads}`;
  console.log(`engine builds on ${o.arch} virtual Pis (${o.cpus.join(', ')}), ${o.model}, ${o.threads} thread(s), ${o.rounds} interleaved round(s) of ${o.frames} frame(s)`);
  console.log(`${o.hostCpuinfo ? "the hosts see this machine's /proc/cpuinfo (as qemu 7.2 passes it through)" : "the hosts see a Pi's /proc/cpuinfo (the emulated core's part number and features)"}`);
  console.log('times inside a virtual Pi are QEMU TIMES (emulated CPU), not a Pi\'s');
  const pis = await startVirtualPis(o.cpus.length, { machines: o.cpus.map((cpu) => ({ arch: o.arch, cpu, hostCpuinfo: o.hostCpuinfo })), log: console.log });
  const results = new Map<string, Probe[]>();
  try {
    for (let r = 0; r < o.rounds; r++) {
      for (const h of pis.hosts) {
        for (const b of builds) {
          const key = `${h.cpu}\0${b.id}`;
          const prev = results.get(key) ?? [];
          if (prev.some((p) => !p.ok)) continue; // a crash does not change between rounds
          const x = await pis.exec(h.name, probe(b.id));
          prev.push(parseProbe(x.code, x.stdout, x.stderr));
          results.set(key, prev);
        }
      }
    }
  } finally {
    await pis.teardown();
  }
  // this machine, the same builds and rounds
  const local = new Map<string, Probe[]>();
  const localBuilds = ENGINE_BUILDS.filter((b) => !b.failsOn.x64);
  for (let r = 0; r < o.rounds; r++) {
    for (const b of localBuilds) {
      const p = await runCmd('sh', ['-c', `${probe(b.id)}; echo "exit=$?"`], { timeoutMs: 600_000 }).catch((e: Error) => `exit=1 ${e.message}`);
      const code = Number(/exit=(\d+)/.exec(p)?.[1] ?? 1);
      local.set(b.id, [...(local.get(b.id) ?? []), parseProbe(code, p.replace(/exit=\d+\s*$/, ''), p)]);
    }
  }
  const row = (where: string, build: string, ps: Probe[], label: string) => {
    const bad = ps.find((p) => !p.ok);
    if (bad) return `${where.padEnd(11)} ${build.padEnd(24)} ${bad.failure}`;
    const ms = median(ps.flatMap((p) => p.frameMs!));
    return `${where.padEnd(11)} ${build.padEnd(24)} runs   load ${(median(ps.map((p) => p.loadMs!)) / 1000).toFixed(1).padStart(6)} s   ${ms.toFixed(1).padStart(9)} ms/frame ${label}  (${ps[0]!.engine})`;
  };
  console.log('');
  for (const cpu of o.cpus) {
    for (const b of builds) console.log(row(cpu, b.id, results.get(`${cpu}\0${b.id}`) ?? [], '(qemu time)'));
    const ok = builds.filter((b) => results.get(`${cpu}\0${b.id}`)?.every((p) => p.ok));
    if (ok.length >= 2) {
      const base = median(results.get(`${cpu}\0${ok[0]!.id}`)!.flatMap((p) => p.frameMs!));
      for (const b of ok.slice(1)) {
        const ms = median(results.get(`${cpu}\0${b.id}`)!.flatMap((p) => p.frameMs!));
        console.log(`${cpu.padEnd(11)} ${b.id} / ${ok[0]!.id} time per frame under the same qemu CPU: ${(ms / base).toFixed(2)}`);
      }
    }
  }
  for (const b of localBuilds) console.log(row(process.arch, b.id, local.get(b.id) ?? [], '(this machine)'));
}
