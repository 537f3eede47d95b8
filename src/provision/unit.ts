// The systemd template unit pifarm-node@.service (from templates/), one instance per node
// process. Hosts without systemd fail clearly: supervision (restart on failure, logs in the
// journal, a memory cap) is what the unit gives us.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_DIR, CURRENT_LINK, RUN_USER, UNIT_PATH } from './layout.js';
import { writeFileCommand } from '../transport/shell.js';
import { ProvisionError, type Step, type StepContext } from './types.js';

const TEMPLATE = fileURLToPath(new URL('../../../templates/pifarm-node@.service', import.meta.url));

export function renderUnit(vars: { node: string; memoryMax: string }): string {
  const values: Record<string, string> = { USER: RUN_USER, NODE: vars.node, CURRENT: CURRENT_LINK, CONFIG_DIR, MEMORY_MAX: vars.memoryMax };
  return readFileSync(TEMPLATE, 'utf8').replace(/\{\{(\w+)\}\}/g, (m, k: string) => values[k] ?? m);
}

/** MemoryMax: the host's vars.memoryMax, else 80% of its RAM (systemd takes a percentage). */
export function memoryMaxFor(ctx: Pick<StepContext, 'host'>): string {
  const v = ctx.host.vars.memoryMax;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '80%';
}

export function requireSystemd(ctx: StepContext): void {
  if (!ctx.facts.systemd) {
    throw new ProvisionError(`${ctx.host.name}: systemd is not running on this host; pifarm runs node processes as systemd units (restart on failure, journal logs, memory cap). Use a systemd-based OS such as Raspberry Pi OS`);
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export const unitStep: Step = {
  name: 'unit',
  async run(ctx) {
    requireSystemd(ctx);
    if (!ctx.facts.nodePath) throw new ProvisionError(`${ctx.host.name}: no node on the host; run the runtime step first`);
    const text = renderUnit({ node: ctx.facts.nodePath, memoryMax: memoryMaxFor(ctx) });
    if (ctx.facts.pifarm.unitSha === sha(text)) return { status: 'ok', detail: `${UNIT_PATH} up to date` };
    if (ctx.check) return { status: 'changed', detail: `would write ${UNIT_PATH}` };
    // written and loaded in one round trip; a first install needs no daemon-reload (systemd >= 246
    // finds new unit files by itself), a replaced one does
    const reload = ctx.facts.pifarm.unitSha !== undefined ? ' && systemctl daemon-reload' : '';
    const d = await ctx.t.exec(`${writeFileCommand(UNIT_PATH, 0o644)}${reload}`, { stdin: text, sudo: true });
    if (d.code !== 0) throw new ProvisionError(`${ctx.host.name}: installing ${UNIT_PATH} failed: ${d.stderr.trim() || `exit ${d.code}`}`);
    ctx.facts.pifarm.unitSha = sha(text);
    return { status: 'changed', detail: `wrote ${UNIT_PATH}`, bytesSent: Buffer.byteLength(text) };
  },
};
