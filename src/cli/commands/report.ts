// `pifarm report DIR... [--compare-paper] [--out DIR] [--json]`: compares runs side by side.
import { parseFlags, UsageError, type CliCommand } from '../command.js';
import { table } from '../../report/text-table.js';
import { readRunResult, writeCompareReport } from '../../report/write.js';
import { COMPARE_HEAD, compareRows, rowCells } from '../../report/compare.js';
import { PAPER_SOURCE } from '../../report/paper-data.js';

const HELP = `usage: pifarm report DIR... [--compare-paper] [--out DIR] [--json]

Reads the result.json of each run directory (reports/<run id>, or the JSON file itself), prints a
table of the runs side by side and writes a self-contained HTML comparison to
<out>/compare-<id>/index.html (out: reports).

  --compare-paper   add the paper's published figures for the same models (labelled "paper")
  --out DIR         where to write the comparison (default: reports)
  --json            print the rows as JSON instead of a table`;

export const command: CliCommand = {
  name: 'report',
  summary: 'compare runs side by side (text table and HTML), optionally with the paper\'s figures',
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { 'compare-paper': { type: 'boolean' }, out: { type: 'string' }, json: { type: 'boolean' } }, HELP);
    if (positionals.length === 0) throw new UsageError(`give at least one run directory\n\n${HELP}`);
    const results = positionals.map((p) => readRunResult(p));
    const withPaper = values['compare-paper'] ?? false;
    const rows = compareRows(results, withPaper);
    const { htmlPath } = writeCompareReport(results, values.out ?? 'reports', { comparePaper: withPaper });
    if (values.json) {
      console.log(JSON.stringify({ html: htmlPath, rows }, null, 2));
      return 0;
    }
    console.log(table(COMPARE_HEAD, rows.map(rowCells)));
    if (withPaper) console.log(`\nrows "paper": the paper's published figures, not measured here. ${PAPER_SOURCE}`);
    console.log(`\nHTML: ${htmlPath}`);
    return 0;
  },
};
