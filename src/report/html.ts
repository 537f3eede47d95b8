// The self-contained HTML of one run and of a comparison of runs: inline CSS, inline SVG charts,
// and one small inline script that measures every chart after layout (getBBox) and writes the
// result into #render-check, so a headless browser test can tell a drawn chart from an empty one.
import { describeMisses } from './model-check.js';
import { stageRows } from './stage-rows.js';
import type { RunResult } from './types.js';
import { histogram, ipsSeries, lanes, latencies } from './figures.js';
import { esc, fmtNum, histogramChart, lineChart, type RefLine } from './svg.js';
import { timelineChart, topologyChart } from './svg-pipeline.js';
import { COMPARE_HEAD, compareRows, rowCells, type CompareRow } from './compare.js';
import { PAPER_SOURCE } from './paper-data.js';
import { barsChart } from './svg-bars.js';

export interface HtmlOptions {
  /** add the paper's figures for the same model to the comparison table */
  comparePaper?: boolean;
  /** host name of the sender, for the topology picture */
  senderHost?: string;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#f6f7f9}
main{max-width:1120px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#666;margin:0 0 14px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
section{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:8px 14px 12px;margin-top:14px;overflow-x:auto}
table{border-collapse:collapse;font-size:12.5px;width:100%}th,td{padding:4px 7px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.num{white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}tr.paper td{color:#6a4c00;background:#fff8e6}
.note{color:#666;font-size:12px}
svg.chart{display:block;width:100%;height:auto}
.grid{stroke:#eee}.axis{stroke:#999}.tickmark{stroke:#999}.tick{font-size:11px;fill:#666}.label{font-size:12px;fill:#444}
.series{fill:none;stroke:#4e79a7;stroke-width:2}.area{fill:#4e79a7;fill-opacity:.12}.dot{fill:#4e79a7}
.ref{stroke:#e15759;stroke-dasharray:5 4;stroke-width:1.5}.ref.mean{stroke:#59a14f}.reflabel{font-size:11px;fill:#e15759}.reflabel.mean{fill:#59a14f}
.bar{fill:#4e79a7}.bar.paper{fill:#e8b64c}.barlabel{font-size:10px;fill:#444}
.laneband{fill:#f4f5f7}.lanelabel{font-size:11px;fill:#333}.wait{fill:#ccc}
.edge{fill:none;stroke:#999;stroke-width:1.2}.nodelabel{font-size:12px;fill:#fff;font-weight:600}.nodesub{font-size:10px;fill:#fff}
.coltitle{font-size:13px;font-weight:600;fill:#333}.colsub{font-size:11px;fill:#666}
#render-check{display:none}`;

/** Measures every chart once laid out; a chart "rendered" when its marks have non-zero size. */
const CHECK_SCRIPT = `
(function(){
  var out=[];
  document.querySelectorAll('svg.chart').forEach(function(svg){
    var box=svg.getBBox(); var marks=0;
    svg.querySelectorAll('path,rect,circle').forEach(function(el){var b=el.getBBox(); var line=el.tagName==='path'&&!el.closest('defs'); if(line?(b.width>0||b.height>0):(b.width>0&&b.height>0)) marks++;});
    out.push({id:svg.id,width:Math.round(box.width),height:Math.round(box.height),marks:marks});
  });
  var pre=document.getElementById('render-check'); pre.textContent=JSON.stringify({charts:out});
  document.body.setAttribute('data-rendered', out.length>0 && out.every(function(c){return c.marks>0&&c.width>0&&c.height>0;}) ? 'ok' : 'incomplete');
})();`;

function page(title: string, body: string, wide = false): string {
  // the comparison's table has a column per figure: its page may use more of a wide screen
  const style = wide ? `${CSS}\nmain{max-width:min(1500px,98vw)}` : CSS;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${style}</style></head><body><main>${body}</main><pre id="render-check"></pre><script>${CHECK_SCRIPT}</script></body></html>\n`;
}

function card(value: string, label: string): string {
  return `<div class="card"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
}

function compareTable(rows: CompareRow[]): string {
  const numeric = new Set([4, 7, 8, 9, 10, 11, 12]);
  const head = `<tr>${COMPARE_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr class="${r.source}">${rowCells(r).map((c, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('');
  const paperNote = rows.some((r) => r.source === 'paper') ? `<p class="note">Rows marked "paper" are the paper's published figures, not measured by this tool. ${esc(PAPER_SOURCE)}</p>` : '';
  return `<table>${head}${body}</table>${paperNote}`;
}

function stagesTable(r: RunResult): string {
  const { head, rows, numeric } = stageRows(r, true);
  const misses = describeMisses(r);
  const note = misses.length ? `<ul class="misses">${misses.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : '';
  return `${note}<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((row) => `<tr>${row.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function renderRunHtml(r: RunResult, opts: HtmlOptions = {}): string {
  const frames = r.timeline ?? [];
  const laneList = lanes(frames, r.stages.map((s) => s.role));
  const lat = latencies(frames);
  const refs: RefLine[] = [{ y: r.ips, label: `measured ${fmtNum(r.ips)} IPS`, cls: 'mean' }];
  if (r.predicted) refs.push({ y: r.predicted.ips, label: `predicted ${fmtNum(r.predicted.ips)} IPS`, cls: 'pred' });
  const ipsPts = ipsSeries(r).map((p) => ({ x: p.t, y: p.ips }));
  const e = r.emulation;
  const cards = [
    card(fmtNum(r.ips), 'IPS (steady window)'),
    r.predicted ? card(`${fmtNum(r.predicted.ips)} (×${fmtNum(r.predicted.ratio)})`, 'predicted IPS (measured/predicted)') : '',
    card(`${fmtNum(r.latencyMs.p50)} / ${fmtNum(r.latencyMs.p95)} / ${fmtNum(r.latencyMs.p99)}`, 'latency p50 / p95 / p99 ms'),
    card(`${r.completed} / ${r.frames}`, `frames completed${r.dropped ? `, ${r.dropped} dropped` : ''}`),
    card(String(r.devices), 'devices (nodes + sender)'),
    r.bottleneck ? card(r.bottleneck, 'bottleneck stage') : '',
    r.energy ? card(`${fmtNum(r.energy.totalJ)} J`, `per inference (static ${fmtNum(r.energy.staticJ)} + dynamic ${fmtNum(r.energy.dynamicJ)})`) : '',
    r.check ? card(r.check.ok ? 'ok' : 'MISMATCH', `output vs whole model (${r.check.compared} frames, max diff ${r.check.maxAbsDiff.toExponential(1)})`) : '',
  ].join('');
  const net = e && e.bandwidthMbit > 0 ? `network ${fmtNum(e.bandwidthMbit)} Mbit/s shared, ${fmtNum(e.latencyMs)} ms, ${fmtNum(e.lossPct)}% loss` : 'network not emulated (loopback)';
  const emu = e ? `; emulated ${esc(e.profile)} at ${fmtNum(e.gflops)} GFLOPS, ${net}` : '';
  const drops = r.dropReasons && Object.keys(r.dropReasons).length ? `<p class="note">dropped: ${esc(Object.entries(r.dropReasons).map(([k, v]) => `${k} ${v}`).join(', '))}</p>` : '';
  const body = `
<h1>${esc(r.model)} · ${esc(r.preset)} · ${esc(r.kind)} run</h1>
<p class="meta">run ${esc(r.runId)}, started ${esc(r.startedAt)}, engine ${esc(r.engine)}${r.bytesPerFrame ? `, ${fmtNum(r.bytesPerFrame / 1024)} KiB on the wire per frame` : ''}${emu}</p>
<div class="cards">${cards}</div>${drops}
<section><h2>Throughput over time</h2>${lineChart('chart-ips', ipsPts, 'time since start (s)', 'completed frames per second', refs)}</section>
<section><h2>Latency distribution</h2>${histogramChart('chart-latency', histogram(lat), 'end-to-end latency (ms)', [{ x: r.latencyMs.p50, label: 'p50' }, { x: r.latencyMs.p95, label: 'p95' }].filter((x) => lat.length > 0 && Number.isFinite(x.x)))}</section>
<section><h2>Per-process timeline</h2><p class="note">One lane per process; a block is one frame's compute (same colour = same frame), grey before it is the wait since the frame arrived. Percent: busy share of the run.</p>${timelineChart('chart-timeline', laneList)}</section>
<section><h2>Topology</h2>${topologyChart('chart-topology', r, laneList, opts.senderHost)}</section>
<section><h2>Stages</h2>${stagesTable(r)}</section>
<section><h2>Comparison</h2>${compareTable(compareRows([r], opts.comparePaper ?? false))}</section>`;
  return page(`pifarm ${r.model} ${r.preset} ${r.runId}`, body, true);
}

export function renderCompareHtml(results: RunResult[], opts: HtmlOptions = {}): string {
  const rows = compareRows(results, opts.comparePaper ?? false);
  const bars = rows.map((row) => ({ label: `${row.source === 'paper' ? 'paper: ' : ''}${row.model} ${row.system}${row.source === 'ours' ? ` (${row.run})` : ''}`, value: row.ips, cls: row.source }));
  const energy = rows.filter((row) => row.energyJ !== undefined).map((row) => ({ label: `${row.source === 'paper' ? 'paper: ' : ''}${row.model} ${row.system}${row.source === 'ours' ? ` (${row.run})` : ''}`, value: row.energyJ!, cls: row.source }));
  const body = `
<h1>pifarm comparison of ${results.length} run${results.length === 1 ? '' : 's'}</h1>
<p class="meta">${esc(results.map((r) => r.runId).join(', '))}</p>
<section><h2>Table</h2>${compareTable(rows)}</section>
<section><h2>Images per second</h2>${barsChart('chart-compare-ips', bars, 'IPS')}</section>
${energy.length ? `<section><h2>Energy per inference</h2>${barsChart('chart-compare-energy', energy, 'joules per inference')}</section>` : ''}
${results.map((r, i) => `<section><h2>${esc(r.runId)}: throughput over time</h2>${lineChart(`chart-ips-${i}`, ipsSeries(r).map((p) => ({ x: p.t, y: p.ips })), 'time since start (s)', 'completed frames per second', [{ y: r.ips, label: `${fmtNum(r.ips)} IPS`, cls: 'mean' }])}</section>`).join('')}`;
  return page('pifarm comparison', body, true);
}
