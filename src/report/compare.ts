// The comparison table: our runs side by side, optionally with the paper's figures for the same
// models. One row model for both the HTML table and the text table the CLI prints; the "source"
// column says whose figure it is, so the paper's never pass for ours.
import type { RunResult } from './types.js';
import { paperPiFarm, paperSystems } from './paper-data.js';
import { fmtNum } from './svg.js';

export interface CompareRow {
  source: 'ours' | 'paper';
  run: string;
  model: string;
  system: string;
  devices: number;
  engine: string;
  emulation: string;
  ips: number;
  /** ours: the paper's IPS for the same model and device count, when it ran one */
  paperIps?: number;
  predictedIps?: number;
  ratio?: number;
  p50?: number;
  p95?: number;
  energyJ?: number;
  staticJ?: number;
  dynamicJ?: number;
  completed?: string;
}

export const COMPARE_HEAD = ['source', 'run', 'model', 'system', 'devices', 'engine', 'emulation', 'IPS', "paper's IPS", 'predicted', 'meas/pred', 'p50/p95 ms', 'J/inference (static+dynamic)', 'completed'];

export function runRow(r: RunResult): CompareRow {
  const e = r.emulation;
  return {
    source: 'ours',
    run: r.runId,
    model: r.model,
    system: r.preset,
    devices: r.devices,
    engine: r.engine,
    emulation: e ? `${e.profile} ${fmtNum(e.gflops)} GFLOPS, ${e.bandwidthMbit > 0 ? `${fmtNum(e.bandwidthMbit)} Mbit/s shared` : 'loopback net'}` : 'none (this machine)',
    ips: r.ips,
    paperIps: paperPiFarm(r.model, r.devices)?.ips,
    predictedIps: r.predicted?.ips,
    ratio: r.predicted?.ratio,
    p50: r.latencyMs.p50,
    p95: r.latencyMs.p95,
    energyJ: r.energy?.totalJ,
    staticJ: r.energy?.staticJ,
    dynamicJ: r.energy?.dynamicJ,
    completed: `${r.completed}/${r.frames}`,
  };
}

/** Our runs in the given order, then (if asked) the paper's systems of every model they ran. */
export function compareRows(results: RunResult[], withPaper: boolean): CompareRow[] {
  const rows = results.map(runRow);
  if (!withPaper) return rows;
  const models = [...new Set(results.map((r) => r.model.toLowerCase()))];
  for (const m of models) {
    for (const p of paperSystems(m)) {
      rows.push({ source: 'paper', run: 'published', model: m, system: p.label, devices: p.devices, engine: p.system.startsWith('tx2') ? 'TensorFlow' : 'Keras/TF', emulation: 'real hardware', ips: p.ips, energyJ: p.totalJ, staticJ: p.staticJ, dynamicJ: p.dynamicJ });
    }
  }
  return rows;
}

const opt = (n: number | undefined, suffix = ''): string => (n === undefined || !Number.isFinite(n) ? '–' : `${fmtNum(n)}${suffix}`);

/** Cells in COMPARE_HEAD order, as text. */
export function rowCells(r: CompareRow): string[] {
  const lat = r.p50 === undefined ? '–' : `${opt(r.p50)}/${opt(r.p95)}`;
  const energy = r.energyJ === undefined ? '–' : `${opt(r.energyJ)} (${opt(r.staticJ)}+${opt(r.dynamicJ)})`;
  return [r.source, r.run, r.model, r.system, String(r.devices), r.engine, r.emulation, opt(r.ips), opt(r.paperIps), opt(r.predictedIps), opt(r.ratio), lat, energy, r.completed ?? '–'];
}
