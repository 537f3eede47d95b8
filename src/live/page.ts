// The live page: one self-contained HTML document (no script or style from anywhere else), which
// shows the snapshot it was served with at once and follows /events (server-sent events, one
// snapshot every half second) to redraw: the latest frame and its classes, IPS and latency, each stage, each node, the counts, the topology and its live moves.
export function livePage(title: string, initial: unknown): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} - pifarm live</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.3em}
.row{display:flex;gap:2em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.8em 1em;min-width:14em}
table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;border-bottom:1px solid #eee}
.down{color:#b00;font-weight:bold}.up{color:#070}img{image-rendering:pixelated;width:224px;height:224px;background:#eee}
.big{font-size:2em;font-weight:bold}
</style></head>
<body data-state="waiting">
<h1>${esc(title)}</h1>
<div class="row">
 <div class="card"><img id="frame" alt="latest frame"><div id="frame-name"></div></div>
 <div class="card"><div>classes of the latest frame</div><table id="classes"></table></div>
 <div class="card"><div>IPS (last 5 s)</div><div class="big" id="ips">-</div>
  <div>latency p50 <span id="p50">-</span> ms, last <span id="last">-</span> ms</div>
  <div>completed <span id="completed">0</span>, offered <span id="offered">0</span>, skipped <span id="skipped">0</span>, lost <span id="lost">0</span></div></div>
</div>
<div>topology <span id="topology"></span></div>
<ul id="moves"></ul>
<h2>stages</h2><table id="stages"><tr><th>stage</th><th>replicas up</th><th>utilisation</th><th>queue</th><th>service ms</th></tr></table>
<h2>nodes</h2><table id="nodes"><tr><th>node</th><th>host</th><th>state</th><th>queue</th><th>frames</th></tr></table>
<script id="initial" type="application/json">${JSON.stringify(initial).replace(/</g, '\\u003c')}</script>
<script>
const $ = (id) => document.getElementById(id);
const f = (x, d = 1) => (x === null || x === undefined ? '-' : Number(x).toFixed(d));
function row(cells) { const tr = document.createElement('tr'); for (const c of cells) { const td = document.createElement('td'); if (c && c.cls) { td.className = c.cls; td.textContent = c.text; } else td.textContent = c; tr.appendChild(td); } return tr; }
function table(id, rows) { const t = $(id); while (t.rows.length > (t.rows[0] && t.rows[0].cells[0].tagName === 'TH' ? 1 : 0)) t.deleteRow(t.rows.length - 1); for (const r of rows) t.appendChild(row(r)); }
function draw(s) {
  $('ips').textContent = f(s.ips, 2);
  $('p50').textContent = s.latencyMs ? f(s.latencyMs.p50) : '-';
  $('last').textContent = s.latencyMs ? f(s.latencyMs.last) : '-';
  for (const k of ['completed', 'offered', 'skipped', 'lost']) $(k).textContent = s[k];
  if (s.latest) { $('frame-name').textContent = 'frame ' + s.latest.frame + ': ' + s.latest.name; table('classes', s.latest.classes.map((c) => [c.label || ('class ' + c.index), f(c.p * 100, 1) + ' %'])); }
  if (s.image) $('frame').src = s.image;
  table('stages', s.stages.map((x) => [x.role, x.up + ' of ' + x.of, f(x.utilization * 100, 0) + ' %', x.queued, f(x.serviceMs, 2)]));
  table('nodes', s.nodes.map((n) => [n.name, n.host, n.up ? { cls: 'up', text: 'up' } : { cls: 'down', text: 'DOWN' }, n.queued, n.computed]));
  $('topology').textContent = s.topology;
  const moves = $('moves'); moves.replaceChildren(...(s.moves || []).map((m) => { const li = document.createElement('li'); li.textContent = 'moved ' + m; return li; }));
  document.body.dataset.state = 'live';
  document.body.dataset.completed = s.completed;
}
draw(JSON.parse(document.getElementById('initial').textContent));
const es = new EventSource('/events');
es.onmessage = (e) => draw(JSON.parse(e.data));
</script></body></html>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
