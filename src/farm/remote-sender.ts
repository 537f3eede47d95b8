// The sender on a farm host (farm.sender names a host): its config written next to the nodes',
// sender-main run over SSH from the deployed release, its JSON report parsed back with the
// sampled outputs for the output check on this machine.
import type { SenderConfig } from '../runtime/sender-main.js';
import type { SenderReport } from '../runtime/sender.js';
import { CURRENT_LINK } from '../provision/layout.js';
import { writeRemoteFile } from '../provision/remote-file.js';
import { FarmError } from './runner.js';
import type { HostSession } from './session.js';

const SENDER_CONFIG = '/etc/pifarm/sender.json';

export async function runRemoteSender(
  s: HostSession,
  cfg: SenderConfig & { idBase: number },
  log: (m: string) => void,
): Promise<Omit<SenderReport, 'samples'> & { samples: Map<number, Float32Array> }> {
  const ctx = await s.context(() => {});
  if (!ctx.facts.nodePath) throw new FarmError(`${s.host.name}: no node on the sender host; run pifarm provision`);
  if (!ctx.facts.pifarm.current) throw new FarmError(`${s.host.name}: no release on the sender host; run pifarm deploy`);
  await writeRemoteFile(s.t, SENDER_CONFIG, JSON.stringify(cfg, null, 2) + '\n', 0o600);
  log(`sender on ${s.host.name}: streaming ${cfg.source ? `up to ${cfg.frames} frames from ${cfg.source}` : `${cfg.frames} frames`}`);
  let partial = '';
  const r = await s.t.exec(`${ctx.facts.nodePath} ${CURRENT_LINK}/dist/src/runtime/sender-main.js --config ${SENDER_CONFIG}`, {
    sudo: true,
    timeoutMs: 600_000 + cfg.frames * 1000,
    onStderr: (d) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) log(`${s.host.name}: ${l.replace(/^pifarm-sender: /, '')}`);
    },
  });
  let report: Omit<SenderReport, 'samples' | 'sampleInputs'> & { samples: { id: number; output: number[] }[]; sampleInputs?: { id: number; bytes: string }[] };
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new FarmError(`${s.host.name}: the sender failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}`);
  }
  // a source's sampled frames come back as base64: the check runs the whole model on them here
  const { sampleInputs, ...rest } = report;
  return { ...rest, samples: new Map(report.samples.map((x) => [x.id, Float32Array.from(x.output)])), ...(sampleInputs ? { sampleInputs: new Map(sampleInputs.map((x) => [x.id, new Uint8Array(Buffer.from(x.bytes, 'base64'))])) } : {}) };
}
