// Small SVG chart writers: axes with round ticks, a line chart, a bar histogram. Output is a string
// of inline SVG, so the report needs no script library and no network to be viewed.

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Rounds to 3 significant decimals for coordinates (keeps the file small). */
export const f = (n: number): string => (Math.round(n * 10) / 10).toString();

/** About `count` round tick values covering [lo, hi] (1, 2, 5 x 10^k steps). */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1000) return n.toFixed(0);
  if (a >= 100) return n.toFixed(1).replace(/\.0$/, '');
  if (a >= 1) return n.toFixed(2).replace(/\.?0+$/, '');
  return n.toPrecision(3).replace(/\.?0+$/, '');
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const DEFAULT_FRAME: Frame = { width: 960, height: 260, left: 56, right: 16, top: 16, bottom: 40 };

export interface Scale {
  x(v: number): number;
  y(v: number): number;
}

/** Axes, grid lines and labels for the domain [x0,x1] x [y0,y1]; returns the scale and the SVG. */
export function axes(fr: Frame, x0: number, x1: number, y0: number, y1: number, xLabel: string, yLabel: string): { scale: Scale; svg: string } {
  const pw = fr.width - fr.left - fr.right;
  const ph = fr.height - fr.top - fr.bottom;
  const xs = x1 > x0 ? x1 - x0 : 1;
  const ys = y1 > y0 ? y1 - y0 : 1;
  const scale: Scale = { x: (v) => fr.left + ((v - x0) / xs) * pw, y: (v) => fr.top + ph - ((v - y0) / ys) * ph };
  const parts: string[] = [];
  for (const t of ticks(y0, y1)) {
    const y = scale.y(t);
    parts.push(`<line class="grid" x1="${fr.left}" x2="${fr.left + pw}" y1="${f(y)}" y2="${f(y)}"/>`);
    parts.push(`<text class="tick" x="${fr.left - 6}" y="${f(y + 4)}" text-anchor="end">${fmtNum(t)}</text>`);
  }
  for (const t of ticks(x0, x1, 8)) {
    const x = scale.x(t);
    parts.push(`<line class="tickmark" x1="${f(x)}" x2="${f(x)}" y1="${fr.top + ph}" y2="${fr.top + ph + 4}"/>`);
    parts.push(`<text class="tick" x="${f(x)}" y="${fr.top + ph + 16}" text-anchor="middle">${fmtNum(t)}</text>`);
  }
  parts.push(`<line class="axis" x1="${fr.left}" x2="${fr.left + pw}" y1="${fr.top + ph}" y2="${fr.top + ph}"/>`);
  parts.push(`<line class="axis" x1="${fr.left}" x2="${fr.left}" y1="${fr.top}" y2="${fr.top + ph}"/>`);
  parts.push(`<text class="label" x="${fr.left + pw / 2}" y="${fr.height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text class="label" transform="translate(14 ${fr.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return { scale, svg: parts.join('') };
}

export function svgOpen(id: string, fr: Frame, title: string): string {
  return `<svg id="${esc(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${fr.width} ${fr.height}" width="${fr.width}" height="${fr.height}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>`;
}

export interface RefLine {
  y: number;
  label: string;
  cls: string;
}

/** A line chart of one series, with optional horizontal reference lines (mean, predicted). */
export function lineChart(id: string, points: { x: number; y: number }[], xLabel: string, yLabel: string, refs: RefLine[] = []): string {
  const fr = DEFAULT_FRAME;
  if (points.length === 0) return `<p class="empty" id="${esc(id)}">no data</p>`;
  const xMax = Math.max(1, ...points.map((p) => p.x));
  const yMax = Math.max(...points.map((p) => p.y), ...refs.map((r) => r.y)) * 1.1 || 1;
  const { scale, svg } = axes(fr, 0, xMax, 0, yMax, xLabel, yLabel);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${f(scale.x(p.x))} ${f(scale.y(p.y))}`).join('');
  const area = `${d}L${f(scale.x(points[points.length - 1]!.x))} ${f(scale.y(0))}L${f(scale.x(points[0]!.x))} ${f(scale.y(0))}Z`;
  const refSvg = refs
    .map((r) => {
      const y = f(scale.y(r.y));
      // Two reference lines are often close (measured vs predicted): labels go to opposite ends.
      const atStart = r.cls === 'mean';
      const lx = atStart ? fr.left + 6 : fr.width - fr.right - 4;
      return `<line class="ref ${esc(r.cls)}" x1="${fr.left}" x2="${fr.width - fr.right}" y1="${y}" y2="${y}"/><text class="reflabel ${esc(r.cls)}" x="${lx}" y="${Number(y) - 4}" text-anchor="${atStart ? 'start' : 'end'}">${esc(r.label)}</text>`;
    })
    .join('');
  const dots = points.length <= 120 ? points.map((p) => `<circle class="dot" cx="${f(scale.x(p.x))}" cy="${f(scale.y(p.y))}" r="2.5"/>`).join('') : '';
  return `${svgOpen(id, fr, yLabel)}${svg}<path class="area" d="${area}"/><path class="series" d="${d}"/>${dots}${refSvg}</svg>`;
}

/** Bars of a histogram: one rect per bin, labelled with its count when there is room. */
export function histogramChart(id: string, bins: { lo: number; hi: number; count: number }[], xLabel: string, refs: { x: number; label: string }[] = []): string {
  const fr = DEFAULT_FRAME;
  if (bins.length === 0) return `<p class="empty" id="${esc(id)}">no data</p>`;
  const x0 = bins[0]!.lo;
  const x1 = bins[bins.length - 1]!.hi;
  const yMax = Math.max(...bins.map((b) => b.count)) * 1.15 || 1;
  const { scale, svg } = axes(fr, x0, x1 > x0 ? x1 : x0 + 1, 0, yMax, xLabel, 'frames');
  const bars = bins
    .map((b) => {
      const x = scale.x(b.lo);
      const w = Math.max(1, scale.x(b.hi) - x - 1);
      const y = scale.y(b.count);
      const h = scale.y(0) - y;
      const label = b.count > 0 && w > 14 ? `<text class="barlabel" x="${f(x + w / 2)}" y="${f(y - 3)}" text-anchor="middle">${b.count}</text>` : '';
      return `<rect class="bar" x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}"><title>${fmtNum(b.lo)}–${fmtNum(b.hi)} ms: ${b.count}</title></rect>${label}`;
    })
    .join('');
  const refSvg = refs
    .map((r, i) => {
      const x = scale.x(r.x);
      const nearRight = x > fr.width - fr.right - 60;
      return `<line class="ref" x1="${f(x)}" x2="${f(x)}" y1="${fr.top}" y2="${fr.height - fr.bottom}"/><text class="reflabel" x="${f(nearRight ? x - 3 : x + 3)}" y="${fr.top + 10 + 12 * i}" text-anchor="${nearRight ? 'end' : 'start'}">${esc(r.label)}</text>`;
    })
    .join('');
  return `${svgOpen(id, fr, xLabel)}${svg}${bars}${refSvg}</svg>`;
}
