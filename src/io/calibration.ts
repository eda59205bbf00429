/**
 * Loads the validation data the core takes as inputs: the calibration record (the multipliers
 * inside the bundled GPU profiles, validation/calibration.json, read by cross-validation) and the
 * cross-validated residual table (validation/residuals.json, read by the prediction intervals).
 * Both ship with the package; a missing or malformed file is a user error naming it.
 */
import { join } from 'node:path';
import { packageRoot, readDataFile } from './files.js';
import { UserError } from '../errors.js';
import type { CalibrationRecord } from '../validation/cv.js';
import type { ResidualTable } from '../validation/intervals.js';

export const CALIBRATION_FILE = join(packageRoot, 'validation', 'calibration.json');
export const RESIDUALS_FILE = join(packageRoot, 'validation', 'residuals.json');

/** validation/calibration.json. */
export function loadCalibration(file = CALIBRATION_FILE): CalibrationRecord {
  const raw = readDataFile(file) as { gpus?: unknown };
  if (!raw || typeof raw !== 'object' || !raw.gpus || typeof raw.gpus !== 'object') throw new UserError('a calibration record needs a gpus object', file, 'gpus');
  return raw as CalibrationRecord;
}

let cached: ResidualTable | null = null;

/** validation/residuals.json (read once per process). */
export function loadResidualTable(file = RESIDUALS_FILE): ResidualTable {
  if (cached && file === RESIDUALS_FILE) return cached;
  const raw = readDataFile(file) as { residuals?: unknown };
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw.residuals)) throw new UserError('a residual table needs a residuals array', file, 'residuals');
  raw.residuals.forEach((r: unknown, i: number) => {
    const x = r as Record<string, unknown>;
    if (typeof x?.generation !== 'string' || typeof x.software !== 'string' || typeof x.throughputRel !== 'number' || !Number.isFinite(x.throughputRel) || x.throughputRel <= -1) {
      throw new UserError('a residual needs generation, software and a finite throughputRel above -1', file, `residuals.${i}`);
    }
    if (x.notModelled !== undefined && !(Array.isArray(x.notModelled) && x.notModelled.every((n) => typeof n === 'string'))) {
      throw new UserError('a residual\'s notModelled is a list of setting names', file, `residuals.${i}.notModelled`);
    }
  });
  const table = raw as ResidualTable;
  if (file === RESIDUALS_FILE) cached = table;
  return table;
}
