// Whether a host is the control machine itself: `local: true`, or an address of this machine's
// loopback. Every place that asks (the planner's shared medium, `pifarm plan -i`, `run --adapt`)
// asks here, so one inventory is planned the same way by all of them.
import type { HostSpec } from './types.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isControlMachine(h: Pick<HostSpec, 'local' | 'address'>): boolean {
  return !!h.local || LOOPBACK.test(h.address);
}

/** Every host on the control machine: node processes share no network medium. */
export function allOnControlMachine(hosts: readonly Pick<HostSpec, 'local' | 'address'>[]): boolean {
  return hosts.every(isControlMachine);
}
