/** Reads validation case files and runs the pure validator over them. */
import { readDataFile } from './files.js';
import { packageProfiles } from './profiles.js';
import { UserError } from '../errors.js';
import { validateCases, summariseAll, type CaseResult } from '../validation/cases.js';
import type { EngineName } from '../run/evaluate.js';

/** Predicts and scores every case in the files, with summaries overall, per source and per GPU. */
export function runValidation(files: string[], engine?: EngineName): { cases: CaseResult[]; summary: ReturnType<typeof summariseAll> } {
  const profiles = packageProfiles();
  const cases: CaseResult[] = [];
  for (const file of files) {
    const raw = readDataFile(file);
    if (!Array.isArray(raw)) throw new UserError('a validation file must be a JSON array of cases', file);
    cases.push(...validateCases(raw, file, profiles, engine));
  }
  return { cases, summary: summariseAll(cases) };
}
