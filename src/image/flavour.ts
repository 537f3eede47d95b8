// Which first-boot mechanism an image understands, decided from its boot partition the way
// Raspberry Pi Imager decides: cloud-init seed files or Ubuntu's system-boot label mean cloud-init;
// pi-gen's issue.txt means a Raspberry Pi OS that runs firstrun.sh; anything else gets the legacy
// ssh + userconf.txt files.
import type { FatEntry } from './fat.js';
import type { CloudOs } from './cloud-init.js';

export type Format = 'cloud-init' | 'firstrun' | 'legacy';
export const FORMATS: readonly Format[] = ['cloud-init', 'firstrun', 'legacy'];

export interface Flavour {
  format: Format;
  /** for cloud-init: which distribution's user groups to use */
  os: CloudOs;
  /** a human description: what was seen */
  reason: string;
}

const SEEDS = ['user-data', 'meta-data', 'network-config'];

export function detectFlavour(label: string, files: FatEntry[], issueTxt: string | undefined): Flavour {
  const names = new Set(files.filter((f) => !f.dir).map((f) => f.name.toLowerCase()));
  const seeds = SEEDS.filter((s) => names.has(s));
  const ubuntu = label.toLowerCase() === 'system-boot';
  if (ubuntu) return { format: 'cloud-init', os: 'ubuntu', reason: `Ubuntu Server for Raspberry Pi (boot label system-boot${seeds.length ? `, seed ${seeds.join(', ')}` : ''})` };
  if (seeds.length > 0) return { format: 'cloud-init', os: 'raspios', reason: `Raspberry Pi OS with cloud-init (seed ${seeds.join(', ')} on ${label || 'boot'})` };
  if (issueTxt !== undefined && /pi-gen/i.test(issueTxt)) {
    const first = issueTxt.split('\n')[0]!.trim();
    return { format: 'firstrun', os: 'raspios', reason: `Raspberry Pi OS from pi-gen without cloud-init (issue.txt: "${first}")` };
  }
  return { format: 'legacy', os: 'raspios', reason: names.has('cmdline.txt') ? 'a Raspberry Pi boot partition without issue.txt or cloud-init seed' : 'no cmdline.txt, issue.txt or cloud-init seed' };
}
