// `npm run bench -- farm-scale --model M --devices N [--emulate pi4] [--models DIR] [--rounds 3]
// [--frames F]`: the planned farm of N emulated Pis (`pifarm bench farm --plan`) against one
// emulated Pi running the whole model (--plan --devices 2: one node and the sender), in
// interleaved rounds of one run, through the CLI. Prints each round, the medians, measured and
// predicted, and the farm / one-device ratio. Emulated Pis: local processes in CPU-quota cgroups.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;

interface Round {
  ips: number;
  predicted: number;
  topology: string;
}

function benchOnce(args: string[], devices: number, out: string): Round {
  const r = spawnSync(process.execPath, [CLI, 'bench', 'farm', ...args, '--plan', '--devices', String(devices), '--json', '--out', out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`bench farm --devices ${devices} failed (exit ${r.status}):\n${r.stderr.split('\n').slice(-8).join('\n')}`);
  const j = JSON.parse(r.stdout) as { ips: number; predicted: { ips: number }; stages: { role: string; layers: string; replicas: number; shards: number }[] };
  const topology = j.stages.map((s) => `${s.layers} x${s.replicas}${s.shards > 1 ? ` (${s.shards} shards)` : ''}`).join(' -> ');
  return { ips: j.ips, predicted: j.predicted.ips, topology };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string' }, models: { type: 'string' }, devices: { type: 'string' }, emulate: { type: 'string' }, rounds: { type: 'string' }, frames: { type: 'string' } } });
  if (!values.model || !values.devices) throw new Error('usage: npm run bench -- farm-scale --model M --devices N [--emulate pi4] [--models DIR] [--rounds 3] [--frames F]');
  const devices = Number(values.devices);
  const rounds = Number(values.rounds ?? 3);
  const emulate = values.emulate ?? 'pi4';
  const args = ['--model', values.model, '--emulate', emulate, ...(values.models ? ['--models', values.models] : []), ...(values.frames ? ['--frames', values.frames] : [])];
  const out = mkdtempSync(join(tmpdir(), 'pifarm-farm-scale-'));
  const farm: Round[] = [];
  const one: Round[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      farm.push(benchOnce(args, devices, out));
      one.push(benchOnce(args, 2, out));
      console.log(`round ${r + 1}: farm ${farm[r]!.ips.toFixed(3)} IPS, one device ${one[r]!.ips.toFixed(3)} IPS`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const [f, o] = [median(farm.map((x) => x.ips)), median(one.map((x) => x.ips))];
  console.log(`farm-scale ${values.model} on emulated ${emulate}s (local processes in CPU-quota cgroups; loopback network), ${rounds} interleaved rounds (medians):`);
  console.log(`  planned farm, ${devices} devices: ${farm[0]!.topology}`);
  console.log(`    measured ${f.toFixed(3)} IPS, predicted ${farm[0]!.predicted.toFixed(3)} (measured/predicted ${(f / farm[0]!.predicted).toFixed(2)})`);
  console.log(`  one device (the whole model): measured ${o.toFixed(3)} IPS, predicted ${one[0]!.predicted.toFixed(3)} (measured/predicted ${(o / one[0]!.predicted).toFixed(2)})`);
  console.log(`  farm / one device: measured ${(f / o).toFixed(2)}x, predicted ${(farm[0]!.predicted / one[0]!.predicted).toFixed(2)}x`);
}
