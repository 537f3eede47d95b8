// Headless Chromium for report tests: load a local file, return the DOM after its scripts ran, or
// take a screenshot. Its own throwaway profile, no network features (the report needs none).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions', '--disable-dev-shm-usage'];

function chromium(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'pfem-chromium-'));
  return new Promise<string>((resolve, reject) => {
    execFile('chromium', [...FLAGS, `--user-data-dir=${profile}`, ...args], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

export function dumpDom(htmlPath: string): Promise<string> {
  return chromium(['--dump-dom', pathToFileURL(htmlPath).href]);
}

export async function screenshot(htmlPath: string, pngPath: string, width = 1100, height = 2600): Promise<void> {
  await chromium([`--screenshot=${pngPath}`, `--window-size=${width},${height}`, '--hide-scrollbars', pathToFileURL(htmlPath).href]);
}

export interface RenderCheck {
  rendered: string | undefined;
  charts: { id: string; width: number; height: number; marks: number }[];
}

/** The marker the report's inline script writes after layout (see src/report/html.ts). */
export function renderCheck(dom: string): RenderCheck {
  const rendered = /<body[^>]*data-rendered="([^"]*)"/.exec(dom)?.[1];
  const json = /<pre id="render-check">([^<]*)<\/pre>/.exec(dom)?.[1];
  const charts = json ? (JSON.parse(json.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { charts: RenderCheck['charts'] }).charts : [];
  return { rendered, charts };
}
