// The stage graphs of an imported model on a host: one file per distinct stage the host runs, in
// MODELS_DIR named by its content's hash, so a graph is sent once and kept across releases, and
// a redeploy of an unchanged model sends nothing. Written under a temporary name, checked against
// its hash on the host, then renamed: a partial transfer is never used.
import { basename } from 'node:path';
import { MODELS_DIR, RUN_USER } from './layout.js';
import { shq, writeFileCommand } from '../transport/shell.js';
import { ProvisionError, type Step } from './types.js';
import { hostBuild } from './host-engine.js';
import { describeCpu } from '../engine/builds.js';

export const modelFilesStep: Step = {
  name: 'model',
  async run(ctx) {
    const want = ctx.plan.graphs ?? [];
    const build = hostBuild(ctx);
    if (build.engine !== 'onnx') throw new ProvisionError(`${ctx.host.name}: an imported model runs on onnxruntime only, and this host's CPU (${describeCpu(ctx.facts.cpu)}) gets ${build.id}; run the model's stages on arm64 or x64 hosts (64-bit Pi OS), or give this host engine: onnx where it can`);
    const have = new Set(ctx.facts.pifarm.models);
    const missing = want.filter((g) => !have.has(basename(g.path)));
    if (missing.length === 0) return { status: 'ok', detail: `${want.length} stage graph(s) present` };
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
    const total = missing.reduce((a, g) => a + g.bytes.byteLength, 0);
    if (ctx.check) return { status: 'changed', detail: `would send ${missing.length} stage graph(s), ${mb(total)}` };
    const mk = await ctx.t.exec(`mkdir -p ${MODELS_DIR} && chown root:${RUN_USER} ${MODELS_DIR} && chmod 755 ${MODELS_DIR}`, { sudo: true });
    if (mk.code !== 0) throw new ProvisionError(`${ctx.host.name}: cannot create ${MODELS_DIR}: ${mk.stderr.trim()}`);
    for (const g of missing) {
      const tmp = `${g.path}.partial`;
      const w = await ctx.t.exec(writeFileCommand(tmp, 0o644), { stdin: Buffer.from(g.bytes.buffer, g.bytes.byteOffset, g.bytes.byteLength), sudo: true, timeoutMs: 600_000 });
      if (w.code !== 0) throw new ProvisionError(`${ctx.host.name}: writing ${tmp} failed: ${w.stderr.trim() || `exit ${w.code}`}`);
      const v = await ctx.t.exec(`h=$(sha256sum ${shq(tmp)} | cut -c1-64); if [ "$h" = ${g.sha256} ]; then mv -f ${shq(tmp)} ${shq(g.path)}; else rm -f ${shq(tmp)}; echo "$h"; exit 1; fi`, { sudo: true });
      if (v.code !== 0) throw new ProvisionError(`${ctx.host.name}: ${g.path} arrived damaged (sha256 ${v.stdout.trim() || '?'}, sent ${g.sha256}); deploy again`);
      ctx.facts.pifarm.models.push(basename(g.path));
    }
    return { status: 'changed', detail: `sent ${missing.length} stage graph(s), ${mb(total)}`, bytesSent: total };
  },
};
