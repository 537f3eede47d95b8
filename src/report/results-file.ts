// --results FILE.jsonl: one JSON line per frame as it completes, written through at once (tail -f
// shows them): the frame, where it came from, its latency, its top classes, the replicas on its way.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { FrameResult } from '../runtime/sender.js';
import { topK } from '../model/imported.js';

export interface ResultsFile {
  onResult(r: FrameResult): void;
  close(): void;
  readonly lines: number;
}

export function openResultsFile(file: string, labels?: string[], k = 5): ResultsFile {
  const fd = openSync(file, 'w');
  let lines = 0;
  return {
    onResult(r) {
      const line = {
        frame: r.id,
        source: r.name,
        latencyMs: Math.round(r.latencyMs * 100) / 100,
        top: topK(r.output, k, labels).map((c) => ({ class: c.index, ...(c.label !== undefined ? { label: c.label } : {}), p: Math.round(c.p * 1e6) / 1e6 })),
        hops: r.trace.map((h) => `${h.role}.${h.replica}${h.shard ? `.s${h.shard}` : ''}@${h.host}`),
      };
      writeSync(fd, JSON.stringify(line) + '\n');
      lines++;
    },
    close() {
      closeSync(fd);
    },
    get lines() {
      return lines;
    },
  };
}
