// Code sync: the runtime bundle for the host's architecture, streamed as one gzip tar into
// releases/<content hash>, then `current` switched to it atomically (symlink + rename). A release
// the host already has is never sent again; the release before is kept as `previous` for rollback.
import { createReadStream } from 'node:fs';
import { shq } from '../transport/shell.js';
import { CURRENT_LINK, PREVIOUS_LINK, RELEASE_MARKER, RELEASES_DIR } from './layout.js';
import { hostBuild } from './host-engine.js';
import { ProvisionError, type Step, type StepContext } from './types.js';

/** Points `link` at `target` atomically (a half-switched release is never visible). */
export function switchLinkCommand(link: string, target: string): string {
  return `ln -sfn ${shq(target)} ${shq(link)}.new && mv -T ${shq(link)}.new ${shq(link)}`;
}

/** Deletes releases that are neither current nor previous. */
const PRUNE = `cur=$(readlink ${CURRENT_LINK} || true); prev=$(readlink ${PREVIOUS_LINK} || true); for d in ${RELEASES_DIR}/*; do [ -e "$d" ] || continue; [ "$d" = "$cur" ] || [ "$d" = "$prev" ] || rm -rf "$d"; done`;

export async function currentRelease(ctx: Pick<StepContext, 't'>): Promise<{ current?: string; previous?: string }> {
  const r = await ctx.t.exec(`readlink ${CURRENT_LINK}; echo ---; readlink ${PREVIOUS_LINK}`);
  const [cur, prev] = r.stdout.split('---').map((s) => s.trim().split('/').pop() || undefined);
  const out: { current?: string; previous?: string } = {};
  if (cur) out.current = cur;
  if (prev) out.previous = prev;
  return out;
}

export const codeSyncStep: Step = {
  name: 'code',
  async run(ctx) {
    const arch = ctx.facts.arch;
    if (arch === 'unknown') throw new ProvisionError(`${ctx.host.name}: unknown architecture "${ctx.facts.machine}"; pifarm supports aarch64 (arm64), armv7l (armhf) and x86_64`);
    if (!ctx.plan.bundle) throw new ProvisionError(`${ctx.host.name}: no bundle to deploy`);
    // an engine that cannot run on this CPU is refused here, before anything is sent
    const build = hostBuild(ctx);
    const bundle = await ctx.plan.bundle(arch, build.module);
    const dir = `${RELEASES_DIR}/${bundle.hash}`;
    // from the facts: one round trip for the whole no-change case
    const st = ctx.facts.pifarm;
    const current = st.current ? `${RELEASES_DIR}/${st.current}` : undefined;
    const present = st.releases.includes(bundle.hash) ? 'present' : undefined;
    const mb = (((bundle.zst && ctx.facts.zstd ? bundle.zst.bytes : bundle.bytes) as number) / 2 ** 20).toFixed(1);
    if (current === dir && present === 'present') return { status: 'ok', detail: `release ${bundle.hash} is current, nothing sent`, bytesSent: 0 };
    const has = present === 'present' || current === dir;
    if (ctx.check) return { status: 'changed', detail: has ? `would switch to release ${bundle.hash}` : `would send release ${bundle.hash} (${mb} MB) and switch to it` };
    const old = current && current !== dir ? current : undefined;
    const switchCmds = [switchLinkCommand(CURRENT_LINK, dir), ...(old ? [switchLinkCommand(PREVIOUS_LINK, old)] : []), PRUNE].join(' && ');
    let sent = 0;
    if (present !== 'present') {
      const tmp = `${dir}.tmp`;
      // zstd when both ends have it (unpacks several times faster), else gzip, which every host has
      const zst = bundle.zst && ctx.facts.zstd ? bundle.zst : undefined;
      const extract = zst ? `zstd -dcq | tar -xf - -C ${tmp} --no-same-owner` : `tar -xzf - -C ${tmp} --no-same-owner`;
      // unpack, mark complete, switch: one round trip
      const unpack = `rm -rf ${tmp} && mkdir -p ${tmp} && ${extract} && echo ${bundle.hash} > ${tmp}/${RELEASE_MARKER} && rm -rf ${dir} && mv ${tmp} ${dir} && ${switchCmds}`;
      const r = await ctx.t.pipeTo(`sh -c ${shq(unpack)}`, createReadStream(zst?.file ?? bundle.file), { sudo: true, timeoutMs: 600_000 });
      if (r.code !== 0) throw new ProvisionError(`${ctx.host.name}: unpacking release ${bundle.hash} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
      sent = zst?.bytes ?? bundle.bytes;
    } else {
      const s = await ctx.t.exec(switchCmds, { sudo: true });
      if (s.code !== 0) throw new ProvisionError(`${ctx.host.name}: switching to release ${bundle.hash} failed: ${s.stderr.trim()}`);
    }
    st.current = bundle.hash;
    if (!st.releases.includes(bundle.hash)) st.releases.push(bundle.hash);
    return { status: 'changed', detail: sent ? `sent release ${bundle.hash} (${mb} MB), now current` : `switched to release ${bundle.hash} (already on the host)`, bytesSent: sent };
  },
};
