// Horizontal bars with a label per bar: the comparison of runs (ours in blue, the paper's in amber).
import { esc, f, fmtNum, svgOpen, ticks, type Frame } from './svg.js';

export function barsChart(id: string, items: { label: string; value: number; cls: string }[], xLabel: string): string {
  if (items.length === 0) return `<p class="empty" id="${esc(id)}">no data</p>`;
  const rowH = 24;
  const fr: Frame = { width: 980, height: 30 + items.length * rowH + 34, left: 330, right: 60, top: 10, bottom: 34 };
  const max = Math.max(...items.map((i) => i.value)) * 1.05 || 1;
  const pw = fr.width - fr.left - fr.right;
  const x = (v: number) => fr.left + (v / max) * pw;
  const parts: string[] = [];
  const bottom = fr.top + items.length * rowH;
  for (const t of ticks(0, max)) {
    parts.push(`<line class="grid" x1="${f(x(t))}" x2="${f(x(t))}" y1="${fr.top}" y2="${bottom}"/><text class="tick" x="${f(x(t))}" y="${bottom + 14}" text-anchor="middle">${fmtNum(t)}</text>`);
  }
  items.forEach((it, i) => {
    const y = fr.top + i * rowH;
    parts.push(`<text class="lanelabel" x="${fr.left - 8}" y="${y + 16}" text-anchor="end">${esc(it.label)}</text>`);
    parts.push(`<rect class="bar ${esc(it.cls)}" x="${fr.left}" y="${y + 4}" width="${f(Math.max(1, x(it.value) - fr.left))}" height="${rowH - 8}"><title>${esc(it.label)}: ${fmtNum(it.value)}</title></rect>`);
    parts.push(`<text class="barlabel" x="${f(x(it.value) + 4)}" y="${y + 16}">${fmtNum(it.value)}</text>`);
  });
  parts.push(`<line class="axis" x1="${fr.left}" x2="${fr.left}" y1="${fr.top}" y2="${bottom}"/>`);
  parts.push(`<text class="label" x="${fr.left + pw / 2}" y="${fr.height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  return `${svgOpen(id, fr, xLabel)}${parts.join('')}</svg>`;
}
