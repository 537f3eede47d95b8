// What a run reads and writes besides the farm: its frame source (--source, --loop) and its
// results file (--results), opened before any node starts, so a wrong path fails at once.
import type { FrameSource } from '../runtime/frame-source.js';
import type { FrameResult } from '../runtime/sender.js';
import type { LiveView } from '../runtime/live-view.js';
import { openResultsFile, type ResultsFile } from '../report/results-file.js';
import { openSource } from './open.js';

export interface RunInputFlags {
  /** --source SPEC (sources/open.ts); absent or "random": random frames */
  source?: string;
  loop?: boolean;
  /** --results FILE.jsonl */
  results?: string;
  /** --serve: the live view, made by the caller */
  live?: LiveView;
}

export interface RunInputs {
  source?: FrameSource;
  onResult?: (r: FrameResult) => void;
  live?: LiveView;
  results?: ResultsFile;
  close(): Promise<void>;
}

export function openRunInputs(o: RunInputFlags, shape: [number, number, number], labels?: string[]): RunInputs {
  const source = o.source ? openSource(o.source, shape, { loop: !!o.loop }) : undefined;
  const results = o.results ? openResultsFile(o.results, labels) : undefined;
  const live = o.live;
  const sinks = [...(results ? [(r: FrameResult) => results.onResult(r)] : []), ...(live ? [(r: FrameResult) => live.onResult(r)] : [])];
  return {
    ...(source ? { source } : {}),
    ...(results ? { results } : {}),
    ...(live ? { live } : {}),
    ...(sinks.length ? { onResult: (r: FrameResult) => sinks.forEach((s) => s(r)) } : {}),
    async close() {
      await source?.close();
      results?.close();
    },
  };
}
