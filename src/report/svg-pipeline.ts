// The two pipeline pictures of a run: the timeline (which process was busy with which frame, one
// lane per process) and the topology (stages as columns of processes, each named by its host).
import type { RunResult } from './types.js';
import { instances } from '../model/spec.js';
import type { Lane } from './figures.js';
import { axes, esc, f, fmtNum, svgOpen, type Frame } from './svg.js';

/** A stable, distinct colour per frame id, so one frame can be followed across the lanes. */
export function frameColour(id: number): string {
  return `hsl(${Math.round((id * 137.508) % 360)} 62% 52%)`;
}

const STAGE_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2', '#edc948', '#9c755f'];
export const stageColour = (i: number): string => STAGE_COLOURS[i % STAGE_COLOURS.length]!;

/** Busy intervals per lane over time; the pale bar before a block is the wait since arrival. */
export function timelineChart(id: string, laneList: Lane[]): string {
  if (laneList.length === 0) return `<p class="empty" id="${esc(id)}">no per-frame traces in this run</p>`;
  const rowH = 20;
  const fr: Frame = { width: 980, height: 40 + 16 + laneList.length * rowH, left: 250, right: 16, top: 16, bottom: 40 };
  const t0 = Math.min(...laneList.flatMap((l) => l.busy.map((b) => Math.min(b.arrival, b.start))), 0);
  const t1 = Math.max(...laneList.flatMap((l) => l.busy.map((b) => b.end)));
  const { scale, svg } = axes({ ...fr, top: fr.top }, t0 / 1000, t1 / 1000 || 1, 0, laneList.length, 'time since start (s)', '');
  const x = (ms: number) => scale.x(ms / 1000);
  const parts: string[] = [];
  laneList.forEach((lane, i) => {
    const y = fr.top + i * rowH;
    if (i % 2 === 0) parts.push(`<rect class="laneband" x="${fr.left}" y="${y}" width="${fr.width - fr.left - fr.right}" height="${rowH}"/>`);
    // A host named after its process (local farms: "fc1.0.s1") says it all; else role, replica, shard @ host.
    const label = lane.host.startsWith(`${lane.role}.`) ? lane.host : lane.key;
    parts.push(`<text class="lanelabel" x="${fr.left - 8}" y="${y + 14}" text-anchor="end"><title>${esc(lane.key)}</title>${esc(label)} · ${(lane.utilization * 100).toFixed(0)}% busy</text>`);
    for (const b of lane.busy) {
      if (b.start > b.arrival) parts.push(`<rect class="wait" x="${f(x(b.arrival))}" y="${y + 8}" width="${f(Math.max(0.5, x(b.start) - x(b.arrival)))}" height="4"/>`);
      const w = Math.max(0.8, x(b.end) - x(b.start));
      parts.push(`<rect class="busy" x="${f(x(b.start))}" y="${y + 3}" width="${f(w)}" height="${rowH - 6}" fill="${frameColour(b.frame)}"><title>frame ${b.frame}: ${fmtNum(b.end - b.start)} ms compute, ${fmtNum(b.start - b.arrival)} ms wait</title></rect>`);
    }
  });
  // The y axis of `axes` counts lanes; its numeric ticks mean nothing here, so they are dropped.
  const axisSvg = svg.replace(/<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="end">[^<]*<\/text>/g, '');
  return `${svgOpen(id, fr, 'per-process timeline')}${axisSvg}${parts.join('')}</svg>`;
}

interface Box {
  label: string;
  sub: string;
}

/** Processes of each stage: from the traces when present, else from the stage's host list. */
function stageBoxes(r: RunResult, laneList: Lane[]): Box[][] {
  return r.stages.map((s) => {
    const ls = laneList.filter((l) => l.role === s.role);
    if (ls.length > 0) return ls.map((l) => ({ label: l.host, sub: s.shards > 1 ? `shard ${l.shard}` : `replica ${l.replica}` }));
    const n = Math.max(1, instances(s));
    return Array.from({ length: n }, (_, i) => ({
      label: s.hosts?.[i] ?? s.hosts?.[i % (s.hosts?.length || 1)] ?? '?',
      sub: s.shards > 1 ? `shard ${i % s.shards}` : `replica ${i}`,
    }));
  });
}

/** Stages left to right between the sender and its result port, every process a box. */
export function topologyChart(id: string, r: RunResult, laneList: Lane[], senderHost = 'sender'): string {
  const boxes = stageBoxes(r, laneList);
  const cols: { title: string; sub: string; boxes: Box[]; colour: string }[] = [
    { title: 'sender', sub: `${r.frames} frames`, boxes: [{ label: senderHost, sub: 'sends frames' }], colour: '#888' },
    ...r.stages.map((s, i) => ({
      title: s.role,
      sub: `${s.replicas > 1 ? `×${s.replicas} replicas` : ''}${s.shards > 1 ? `÷${s.shards} shards` : ''}${s.replicas <= 1 && s.shards <= 1 ? 'single' : ''} · ${fmtNum(s.serviceMs)} ms`,
      boxes: boxes[i]!,
      colour: stageColour(i),
    })),
    { title: 'sender', sub: 'results', boxes: [{ label: senderHost, sub: 'result port' }], colour: '#888' },
  ];
  const boxW = Math.min(150, Math.floor(940 / cols.length) - 24);
  const boxH = 36;
  const gapY = 10;
  const colStep = (980 - 40) / cols.length;
  const maxBoxes = Math.max(...cols.map((c) => c.boxes.length));
  const height = 56 + maxBoxes * (boxH + gapY) + 10;
  const fr: Frame = { width: 980, height, left: 0, right: 0, top: 0, bottom: 0 };
  const mid = 56 + (maxBoxes * (boxH + gapY) - gapY) / 2;
  const pos = cols.map((c, ci) => {
    const x = 20 + ci * colStep + (colStep - boxW) / 2;
    const top = mid - (c.boxes.length * (boxH + gapY) - gapY) / 2;
    return c.boxes.map((_, bi) => ({ x, y: top + bi * (boxH + gapY) }));
  });
  const parts: string[] = [
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#777"/></marker></defs>',
  ];
  for (let ci = 0; ci + 1 < cols.length; ci++) {
    for (const a of pos[ci]!) {
      for (const b of pos[ci + 1]!) {
        const x1 = a.x + boxW;
        const y1 = a.y + boxH / 2;
        const x2 = b.x - 2;
        const y2 = b.y + boxH / 2;
        const cx = (x1 + x2) / 2;
        parts.push(`<path class="edge" d="M${f(x1)} ${f(y1)}C${f(cx)} ${f(y1)} ${f(cx)} ${f(y2)} ${f(x2)} ${f(y2)}" marker-end="url(#arrow)"/>`);
      }
    }
  }
  cols.forEach((c, ci) => {
    const cx = 20 + ci * colStep + colStep / 2;
    parts.push(`<text class="coltitle" x="${f(cx)}" y="18" text-anchor="middle">${esc(c.title)}</text>`);
    parts.push(`<text class="colsub" x="${f(cx)}" y="34" text-anchor="middle">${esc(c.sub)}</text>`);
    c.boxes.forEach((b, bi) => {
      const p = pos[ci]![bi]!;
      parts.push(
        `<g class="node"><rect x="${f(p.x)}" y="${f(p.y)}" width="${boxW}" height="${boxH}" rx="6" fill="${c.colour}"/>` +
          `<text class="nodelabel" x="${f(p.x + boxW / 2)}" y="${f(p.y + 15)}" text-anchor="middle">${esc(b.label)}</text>` +
          `<text class="nodesub" x="${f(p.x + boxW / 2)}" y="${f(p.y + 29)}" text-anchor="middle">${esc(b.sub)}</text></g>`,
      );
    });
  });
  return `${svgOpen(id, fr, 'topology')}${parts.join('')}</svg>`;
}
