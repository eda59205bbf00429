/**
 * Rewrites validation/figures.json, the regression guard's record of today's accuracy figures
 * (test/validation/targets.test.ts), from a fresh validation run of each dev file. Run it after a
 * change that moves the figures on purpose, and say in the commit which moved and why:
 *   npx tsx tools/figures.ts
 * The tolerances in the file are kept as they are.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/io/load.js';
import { runValidation } from '../src/cli/validate.js';
import { validationFigures } from '../src/validation/figures.js';

const path = join(packageRoot, 'validation', 'figures.json');
const record = JSON.parse(readFileSync(path, 'utf8')) as { files: Record<string, unknown> };
const round = (x: unknown): unknown =>
  typeof x === 'number' ? Number(x.toFixed(5)) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, round(v)])) : x;
for (const file of Object.keys(record.files)) {
  const { cases, summary } = runValidation([join(packageRoot, 'validation', file)]);
  record.files[file] = round(validationFigures(cases, summary));
}
writeFileSync(path, JSON.stringify(record, null, 2) + '\n');
console.log(`wrote ${path}`);
