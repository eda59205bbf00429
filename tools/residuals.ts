/**
 * Writes validation/residuals.json, the cross-validated residual table the 80 % prediction
 * intervals of `evaluate` and `validate` read (src/validation/intervals.ts), from `validate --cv
 * source` on both dev files (closed-form engine, as `validate --cv` defaults to), and prints the
 * in-sample vs cross-validated figures. Run it after a change that moves the predictions:
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
import { renderCrossValidation } from '../src/report/validation.js';

const by = process.argv.includes('--by') ? (process.argv[process.argv.indexOf('--by') + 1] as 'source' | 'gpu') : 'source';
const files = ['cases-dev.json', 'cases-dev-scale.json'].map((f) => join(packageRoot, 'validation', f));
const t0 = performance.now();
const cv = crossValidate(wellFormedCases(readCaseFiles(files)), packageProfiles(), loadCalibration(), { engine: 'analytic', by });
process.stdout.write(renderCrossValidation(cv));
console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
if (by === 'source') {
  const round = (x: number) => Number(x.toFixed(5));
  const table = { ...cv.residuals, residuals: cv.residuals.residuals.map((r) => ({ ...r, throughputRel: round(r.throughputRel) })) };
  const path = join(packageRoot, 'validation', 'residuals.json');
  writeFileSync(path, JSON.stringify(table, null, 1) + '\n');
  console.log(`wrote ${path}`);
}
