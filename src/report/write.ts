// Writing and reading run reports on disk: <root>/<run id>/result.json + index.html for one run,
// <root>/compare-<id>/index.html for several. Run ids become directory names, so they are checked.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunResult } from './types.js';
import { renderCompareHtml, renderRunHtml, type HtmlOptions } from './html.js';
import { checkRunResult, RunResultError } from './validate.js';

export const RESULT_FILE = 'result.json';
export const HTML_FILE = 'index.html';

function checkId(id: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(id) || id === '.' || id === '..') {
    throw new RunResultError(`run id "${id}" cannot name a report directory; use letters, digits, ".", "_" and "-" only`);
  }
}

/**
 * Writes `root`/<runId>/result.json and index.html (creating directories) and returns their paths.
 * `root` is the reports directory (e.g. "reports"), not the run's own directory.
 */
export function writeRunReport(result: RunResult, root: string, opts: HtmlOptions = {}): { jsonPath: string; htmlPath: string } {
  checkId(result.runId);
  const dir = resolve(root, result.runId);
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, RESULT_FILE);
  const htmlPath = join(dir, HTML_FILE);
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 1)}\n`);
  writeFileSync(htmlPath, renderRunHtml(result, opts));
  return { jsonPath, htmlPath };
}

/** A result from a run directory (holding result.json) or from the JSON file itself. */
export function readRunResult(path: string): RunResult {
  if (!existsSync(path)) throw new RunResultError(`${path}: no such file or directory; give a report directory (reports/<run id>) or its result.json`);
  const file = statSync(path).isDirectory() ? join(path, RESULT_FILE) : path;
  if (!existsSync(file)) throw new RunResultError(`${path}: no ${RESULT_FILE} in this directory; is it a pifarm report directory?`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RunResultError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return checkRunResult(value, file);
}

/** The comparison id: a short hash of the run ids, so comparing the same runs again replaces it. */
export function compareId(results: RunResult[]): string {
  return createHash('sha256').update(results.map((r) => r.runId).join('\n')).digest('hex').slice(0, 10);
}

export function writeCompareReport(results: RunResult[], root: string, opts: HtmlOptions = {}): { htmlPath: string; id: string } {
  if (results.length === 0) throw new RunResultError('nothing to compare: give at least one report directory');
  const id = compareId(results);
  const dir = resolve(root, `compare-${id}`);
  mkdirSync(dir, { recursive: true });
  const htmlPath = join(dir, HTML_FILE);
  writeFileSync(htmlPath, renderCompareHtml(results, opts));
  return { htmlPath, id };
}
