/**
 * Writes validation/residuals.json, the cross-validated residual table the 80 % prediction
 * intervals of `evaluate` and `validate` read (src/validation/intervals.ts), from `validate --cv
 * source` on both dev files (closed-form engine, as `validate --cv` defaults to), and prints the
 * in-sample vs cross-validated figures, then the intervals' coverage beside their median relative
 * width ((high - low) / predicted; coverage bought by width shows there) per fold and for the cases
 * with and without a setting the model does not represent. Run it after a change that moves the
 * predictions:
 *   npx tsx tools/residuals.ts [--by gpu]   (--by gpu prints the leave-one-generation-out figures, writes nothing)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/io/load.js';
import { packageProfiles } from '../src/io/profiles.js';
import { readCaseFiles } from '../src/io/validation.js';
import { loadCalibration } from '../src/io/calibration.js';
import { wellFormedCases } from '../src/validation/cases.js';
import { crossValidate } from '../src/validation/cv.js';
import { summarise, type CaseResult } from '../src/validation/score.js';
import { renderCrossValidation } from '../src/report/validation.js';

const by = process.argv.includes('--by') ? (process.argv[process.argv.indexOf('--by') + 1] as 'source' | 'gpu') : 'source';
const files = ['cases-dev.json', 'cases-dev-scale.json'].map((f) => join(packageRoot, 'validation', f));
const t0 = performance.now();
const cv = crossValidate(wellFormedCases(readCaseFiles(files)), packageProfiles(), loadCalibration(), { engine: 'analytic', by });
process.stdout.write(renderCrossValidation(cv));
console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
const row = (name: string, rs: CaseResult[]) => {
  const s = summarise(rs);
  const n = rs.filter((r) => !r.skipped && r.predicted?.interval80).length;
  return `${name.padEnd(34)} ${String(n).padStart(5)} ${pct(s.intervalCoverage80).padStart(7)} ${pct(s.intervalWidth80).padStart(7)}`;
};
const notModelled = (r: CaseResult) => (r.software?.notModelled.length ?? 0) > 0;
console.log(`\n80 % intervals, cross-validated${''.padEnd(3)} cases  80% in   width (median (high - low) / predicted)`);
console.log(row('all', cv.cases));
console.log(row('  modelled', cv.cases.filter((r) => !notModelled(r))));
console.log(row('  with a setting not modelled', cv.cases.filter(notModelled)));
// Folds with nothing scored (GPUs without a profile) have no figures to show.
for (const held of [...new Set(cv.heldOf)].sort()) {
  const rs = cv.cases.filter((r, i) => cv.heldOf[i] === held);
  if (rs.some((r) => !r.skipped)) console.log(row('  ' + held, rs));
}

if (by === 'source') {
  const round = (x: number) => Number(x.toFixed(5));
  const table = { ...cv.residuals, residuals: cv.residuals.residuals.map((r) => ({ ...r, throughputRel: round(r.throughputRel) })) };
  const path = join(packageRoot, 'validation', 'residuals.json');
  writeFileSync(path, JSON.stringify(table, null, 1) + '\n');
  console.log(`wrote ${path}`);
}
