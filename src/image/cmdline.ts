// cmdline.txt edits. The firmware reads the kernel command line from the first line only, so the
// result is always one line; our parameters are first removed, then appended, so a second prep of
// the same image leaves exactly one copy of each.

export const FIRSTRUN_PARAMS = ['systemd.run=/boot/firstrun.sh', 'systemd.run_success_action=reboot', 'systemd.unit=kernel-command-line.target'];
const REGDOM = 'cfg80211.ieee80211_regdom=';

function ours(token: string): boolean {
  return token.startsWith(REGDOM) || token.startsWith('systemd.run=') || token.startsWith('systemd.run_success_action=') || token === 'systemd.unit=kernel-command-line.target';
}

export interface CmdlineEdit {
  /** Wi-Fi country: cfg80211 starts with Wi-Fi blocked until it knows the regulatory domain */
  regdom?: string;
  /** run /boot/firstrun.sh once on first boot (the Bookworm mechanism) */
  firstrun: boolean;
}

export function patchCmdline(text: string, edit: CmdlineEdit): string {
  const tokens = text.split(/\s+/).filter((t) => t && !ours(t));
  // The regdom goes before systemd.run: firstrun.sh removes " systemd.run" and everything after
  // it once it has run, and the regdom must stay for every later boot.
  if (edit.regdom) tokens.push(REGDOM + edit.regdom);
  if (edit.firstrun) tokens.push(...FIRSTRUN_PARAMS);
  return tokens.join(' ') + '\n';
}

/** What a cmdline already carries of ours (for `image inspect`). */
export function cmdlineCustomisation(text: string): string[] {
  return text.split(/\s+/).filter((t) => t && ours(t));
}
