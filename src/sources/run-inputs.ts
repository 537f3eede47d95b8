// What a run reads and writes besides the farm: its frame source (--source, --loop) and its
// results file (--results), opened before any node starts, so a wrong path fails at once.
import type { FrameSource } from '../runtime/frame-source.js';
import type { FrameResult } from '../runtime/sender.js';
import { openResultsFile, type ResultsFile } from '../report/results-file.js';
import { openSource } from './open.js';

export interface RunInputFlags {
  /** --source SPEC (sources/open.ts); absent or "random": random frames */
  source?: string;
  loop?: boolean;
  /** --results FILE.jsonl */
  results?: string;
}

export interface RunInputs {
  source?: FrameSource;
  onResult?: (r: FrameResult) => void;
  results?: ResultsFile;
  close(): Promise<void>;
}

export function openRunInputs(o: RunInputFlags, shape: [number, number, number], labels?: string[]): RunInputs {
  const source = o.source ? openSource(o.source, shape, { loop: !!o.loop }) : undefined;
  const results = o.results ? openResultsFile(o.results, labels) : undefined;
  return {
    ...(source ? { source } : {}),
    ...(results ? { results, onResult: (r: FrameResult) => results.onResult(r) } : {}),
    async close() {
      await source?.close();
      results?.close();
    },
  };
}
