// `npm run bench -- deploy --hosts N`: provision + deploy on virtual Pis, cold (fresh hosts) for 1
// host and for N hosts, then a warm deploy with nothing changed on the N hosts. Prints time per
// phase and bytes sent per host. Targets: warm no-change deploy of 11 hosts < 3 s; cold deploy of
// 11 hosts < 2x that of 1 host. Needs root (virtual Pis). --arch arm64|armhf [--cpu C]: every host an
// ARM virtual Pi (qemu time: unpacking and node start run emulated).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startVirtualPis } from '../src/lab/vpi/harness.js';
import { writeInventory } from '../src/lab/vpi/inventory.js';
import { simpleCommand, type FarmOutcome } from '../src/farm/commands.js';
import type { FarmOptions } from '../src/farm/options.js';
import { buildBundle } from '../src/provision/bundle.js';
import { projectRoot } from '../src/farm/options.js';
import { defaultBuild } from '../src/engine/builds.js';

export interface ColdFigures {
  provisionMs: number;
  deployMs: number;
  totalMs: number;
  /** the most bytes any one host was sent, per phase and in all */
  provisionBytesPerHost: number;
  deployBytesPerHost: number;
  bytesPerHost: number;
}

export interface DeployFigures {
  hosts: number;
  bundleBuildMs: number;
  bundleMB: number;
  cold1: ColdFigures;
  coldN: ColdFigures;
  warmN: { deployMs: number; bytesPerHost: number };
  ratioColdNto1: number;
  /** this machine's 1-minute load average when the bench started, and its cores */
  loadAverage: number;
  cores: number;
  /** CPU time of this (control) process for the cold N-host provision + deploy */
  controlCpuMsColdN: number;
}

const bytesPerHost = (r: FarmOutcome) => {
  const per = r.runs.map((h) => h.results.reduce((a, s) => a + (s.bytesSent ?? 0), 0));
  return per.length ? Math.max(...per) : 0;
};

function failIfFailed(r: FarmOutcome): FarmOutcome {
  if (r.failed.length) throw new Error(`${r.command} failed on ${r.failed.join(', ')}: ${JSON.stringify(r.runs.filter((x) => x.failed), null, 1)}`);
  return r;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

export async function run(argv: string[]): Promise<DeployFigures> {
  const { values } = parseArgs({ args: argv, options: { hosts: { type: 'string' }, json: { type: 'boolean' }, arch: { type: 'string' }, cpu: { type: 'string' } } });
  const n = Number(values.hosts ?? 11);
  if (!Number.isInteger(n) || n < 4) throw new Error('--hosts: expected an integer >= 4 (alexnet-5 places 4 node processes)');
  const arch = values.arch ?? 'x64';
  if (arch !== 'x64' && arch !== 'arm64' && arch !== 'armhf') throw new Error(`--arch: expected x64, arm64 or armhf, got "${arch}"`);
  const machine = arch === 'x64' ? { arch } : values.cpu ? { arch, cpu: values.cpu } : { arch };
  const dir = mkdtempSync(join(tmpdir(), 'pifarm-bench-deploy-'));
  const log = (m: string) => console.error(`bench deploy: ${m}`);
  log(`booting ${n + 1} virtual Pis (${arch}${arch === 'x64' ? '' : ', emulated by qemu: times are qemu times'})`);
  const [pis, bootMs] = await timed(() => startVirtualPis(n + 1, { machines: Array(n + 1).fill(machine), log }));
  try {
    log(`booted in ${(bootMs / 1000).toFixed(1)} s`);
    const inventory = writeInventory(dir, pis, 'alexnet-5');
    // the bundle is built once per architecture and shared by every host: timed on its own
    const module = defaultBuild({ arch, features: [] }).module;
    const [bundle, bundleBuildMs] = await timed(() => buildBundle(projectRoot(), arch, join(dir, 'state', 'bundles'), module));
    // pinned, so a rebuild of the tree during the bench does not count as a change
    const base: FarmOptions = { inventoryFile: inventory, stateDir: join(dir, 'state'), offline: true, json: true, concurrency: 16, bundles: { [`${arch}:${module}`]: bundle } };
    log(`bundle ${bundle.hash}: ${(bundle.bytes / 2 ** 20).toFixed(1)} MB gzip of ${(bundle.rawBytes / 2 ** 20).toFixed(0)} MB, ${bundle.files} files, built in ${(bundleBuildMs / 1000).toFixed(1)} s`);
    const names = pis.hosts.map((h) => h.name);
    const one: FarmOptions = { ...base, limit: [names[n]!] };
    const many: FarmOptions = { ...base, limit: names.slice(0, n) };
    const cold = async (o: FarmOptions) => {
      const [p, provisionMs] = await timed(async () => failIfFailed(await simpleCommand('provision', o)));
      const [d, deployMs] = await timed(async () => failIfFailed(await simpleCommand('deploy', o)));
      const pb = bytesPerHost(p);
      const db = bytesPerHost(d);
      return { provisionMs, deployMs, totalMs: provisionMs + deployMs, provisionBytesPerHost: pb, deployBytesPerHost: db, bytesPerHost: pb + db };
    };
    const loadAverage = loadavg()[0]!;
    log('cold provision + deploy, 1 host');
    const cold1 = await cold(one);
    log(`cold provision + deploy, ${n} hosts`);
    const cpu0 = process.cpuUsage();
    const coldN = await cold(many);
    const cpu = process.cpuUsage(cpu0);
    log(`warm deploy with nothing changed, ${n} hosts`);
    const [w, warmMs] = await timed(async () => failIfFailed(await simpleCommand('deploy', many)));
    const figures: DeployFigures = {
      hosts: n,
      bundleBuildMs,
      bundleMB: bundle.bytes / 2 ** 20,
      cold1,
      coldN,
      warmN: { deployMs: warmMs, bytesPerHost: bytesPerHost(w) },
      ratioColdNto1: coldN.totalMs / cold1.totalMs,
      loadAverage,
      cores: cpus().length,
      controlCpuMsColdN: (cpu.user + cpu.system) / 1000,
    };
    if (values.json) console.log(JSON.stringify(figures, null, 2));
    else {
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
      console.log(
        [
          `deploy on ${arch} virtual Pis${arch === 'x64' ? '' : ' (qemu time)'} (bundle ${mb(bundle.bytes)}, built once in ${s(bundleBuildMs)})`,
          `cold, 1 host:        provision ${s(cold1.provisionMs)} (${cold1.provisionBytesPerHost} B/host)  deploy ${s(cold1.deployMs)} (${mb(cold1.deployBytesPerHost)}/host)  total ${s(cold1.totalMs)}`,
          `cold, ${String(n).padEnd(2)} hosts:      provision ${s(coldN.provisionMs)} (${coldN.provisionBytesPerHost} B/host)  deploy ${s(coldN.deployMs)} (${mb(coldN.deployBytesPerHost)}/host)  total ${s(coldN.totalMs)}`,
          `warm no-change, ${String(n).padEnd(2)} hosts: deploy ${s(warmMs)}  sent ${figures.warmN.bytesPerHost} bytes/host   (target < 3 s)`,
          `cold ${n} hosts / cold 1 host: ${figures.ratioColdNto1.toFixed(2)}x   (target < 2x)`,
          `context: the virtual Pis share this machine's ${figures.cores} cores (load average ${loadAverage.toFixed(1)} at start); ` +
            `control-side CPU for the cold ${n}-host run ${(figures.controlCpuMsColdN / 1000).toFixed(2)} s`,
        ].join('\n'),
      );
    }
    return figures;
  } finally {
    await pis.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}
