/** Reads validation case files: each must hold a JSON (or YAML) array of cases. */
import { readDataFile } from './files.js';
import { UserError } from '../errors.js';
import type { CaseFile } from '../validation/cases.js';

/** The raw entries of each file, for the validator (validation/cases.ts) to parse case by case. */
export function readCaseFiles(files: readonly string[]): CaseFile[] {
  return files.map((file) => {
    const raw = readDataFile(file);
    if (!Array.isArray(raw)) throw new UserError('a validation file must be a JSON array of cases', file);
    return { label: file, items: raw };
  });
}
