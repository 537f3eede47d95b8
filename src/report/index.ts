// The report module: result files, HTML reports, energy per inference, the paper's figures.
export type { RunResult, StageResult, FrameRecord, StageTrace } from './types.js';
export { writeRunReport, readRunResult, writeCompareReport, RESULT_FILE, HTML_FILE } from './write.js';
export { renderRunHtml, renderCompareHtml, type HtmlOptions } from './html.js';
export { energyPerInference, energyOfRun, EnergyError, type Energy } from './energy.js';
export { compareRows, rowCells, COMPARE_HEAD, type CompareRow } from './compare.js';
export { PAPER_RESULTS, PAPER_SOURCE, PAPER_DEVICES, paperSystems, paperPiFarm } from './paper-data.js';
export { checkRunResult, RunResultError } from './validate.js';
export { percentile, histogram, ipsOverTime, lanes, latencies } from './figures.js';
export { modelMisses, describeMisses, MODEL_TOLERANCE, type StageMiss } from './model-check.js';
export { stageRows, type StageRows } from './stage-rows.js';
