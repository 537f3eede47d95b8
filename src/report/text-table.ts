// A plain text table with aligned columns; numbers right-aligned.
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const isNum = (s: string) => /^[-+]?[\d.,]+(\s?\S+)?$/.test(s) && /\d/.test(s[0] ?? '');
  const line = (r: string[]) =>
    r
      .map((c, i) => (isNum(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
