// `pifarm model import` and `model show` of an imported model: flags to options, the package to text.
import { resolve } from 'node:path';
import { numberFlag, UsageError } from './command.js';
import { table } from '../report/text-table.js';
import { defaultModelsDir, type ImportedModel, type Preprocess } from '../model/imported.js';

/** Where imported models live: --models DIR, else <state dir>/models. */
export function modelsDirOf(flag: string | undefined): string {
  return flag ? resolve(flag) : defaultModelsDir();
}

/** --scale, --mean R,G,B, --std R,G,B, --bgr */
export function preprocessFlags(v: { scale?: string; mean?: string; std?: string; bgr?: boolean }): Partial<Preprocess> {
  const triple = (s: string | undefined, flag: string): [number, number, number] | undefined => {
    if (s === undefined) return undefined;
    const xs = s.split(',').map((x) => Number(x.trim()));
    if (xs.length !== 3 || xs.some((x) => !Number.isFinite(x))) throw new UsageError(`--${flag}: expected three numbers R,G,B, got "${s}"`);
    return xs as [number, number, number];
  };
  const out: Partial<Preprocess> = {};
  if (v.scale !== undefined) out.scale = numberFlag(v.scale, 'scale', 1, {});
  const mean = triple(v.mean, 'mean');
  const std = triple(v.std, 'std');
  if (mean) out.mean = mean;
  if (std) out.std = std;
  if (v.bgr) out.bgr = true;
  return out;
}

const g = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} K` : String(n));
const kb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} KB` : `${b} B`);

export function formatImported(m: ImportedModel): string {
  const ops = Object.entries(m.ops).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ');
  return [
    `${m.name} (imported from ${m.source}, ${m.format}, sha256 ${m.sha256.slice(0, 16)})`,
    `input ${m.input.name} [${m.input.dims.join(', ')}] ${m.input.layout}; output ${m.output.name} [${m.output.dims.join(', ')}], ${m.classes} classes${m.labels ? ' (labels given)' : ''}`,
    `${g(m.macs)} MACs, ${g(m.params)} parameters; ops: ${ops}`,
    ...m.notes.map((n) => `note: ${n}`),
    '',
    `cut points (a stage boundary may be any of them; MACs up to the next):`,
    table(
      ['#', 'tensor', 'shape', 'bytes/frame', 'MACs to next'],
      m.cuts.map((c, i) => [String(i), c.tensor, `[${c.dims.join(', ')}]`, kb(c.bytes), i < m.cuts.length - 1 ? g(c.macsToNext) : '-']),
    ),
  ].join('\n');
}
