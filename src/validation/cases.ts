/**
 * The validator: published measurements (the case format of ../shared/validation/README.md)
 * read leniently (case.ts), turned into scenarios (adapter.ts), predicted and scored (score.ts).
 * An entry that is not a case, or a case the model cannot represent, is skipped with its reason;
 * it never fails the file.
 */
import { evaluate, type EngineName } from '../run/evaluate.js';
import type { Scenario } from '../plan/resolve.js';
import type { Gpu } from '../schema/system.js';
import { CaseSchema, type ValidationCase } from './case.js';
import { caseToScenario, type CaseSoftware, type ProfileLookup } from './adapter.js';
import { scoreCase, malformedResult, summariseAll, type CaseResult, type ValidationSummaries } from './score.js';

/** Predicts and scores every case of one parsed file; malformed cases are skipped with the reason. */
export function validateCases(items: unknown[], label: string, profiles: ProfileLookup, engine?: EngineName): CaseResult[] {
  return items.map((item, i) => {
    const parsed = CaseSchema.safeParse(item);
    if (!parsed.success) {
      const id = (item as { id?: unknown } | null)?.id;
      const issue = parsed.error.issues[0];
      return malformedResult(typeof id === 'string' ? id : `${label}[${i}]`, `malformed case: ${issue.path.join('.')}: ${issue.message}`);
    }
    return scoreOne(parsed.data, profiles, engine);
  });
}

/** Predicts and scores one parsed case, or says why it cannot be modelled. */
function scoreOne(c: ValidationCase, profiles: ProfileLookup, engine?: EngineName): CaseResult {
  const { scenario, reason, software } = caseToScenario(c, profiles);
  const result = scenario ? scoreCase(c, evaluate(scenario, { engine })) : scoreCase(c, null, reason);
  return software ? { ...result, software } : result;
}

/** Predicts and scores parsed cases (calibration and cross-validation re-score them under other profiles). */
export function scoreCasesOn(cases: readonly ValidationCase[], profiles: ProfileLookup, engine?: EngineName): CaseResult[] {
  return cases.map((c) => scoreOne(c, profiles, engine));
}

/** A parsed case with its scenario resolved once (or the reason it cannot be modelled). */
export interface PreparedCase {
  case: ValidationCase;
  scenario?: Scenario;
  reason?: string;
  /** The software it is scored with and what of it is not modelled (kept on every result: the intervals pool by it). */
  software?: CaseSoftware;
}

/**
 * Resolves each case's scenario once: calibration and cross-validation re-score the same cases
 * hundreds of times under refitted GPU profiles, and resolving a case (schemas, layout, software)
 * costs about three times its closed-form evaluation. Only the GPU profile changes between refits.
 */
export function prepareCases(cases: readonly ValidationCase[], profiles: ProfileLookup): PreparedCase[] {
  return cases.map((c) => ({ case: c, ...caseToScenario(c, profiles) }));
}

/** Scores prepared cases, each case on the given GPU profile of its name in place of the one it was resolved with. */
export function scorePrepared(prepared: readonly PreparedCase[], gpus: readonly Gpu[], engine?: EngineName): CaseResult[] {
  return prepared.map(({ case: c, scenario, reason, software }) => {
    const gpu = scenario && gpus.find((g) => g.name === scenario.gpu.name);
    const result = scenario ? scoreCase(c, evaluate(gpu ? { ...scenario, gpu } : scenario, { engine })) : scoreCase(c, null, reason);
    return software ? { ...result, software } : result;
  });
}

export interface CaseFile {
  /** The file's name as the user gave it (names malformed entries). */
  label: string;
  items: unknown[];
}

export interface ValidationRun {
  cases: CaseResult[];
  summary: ValidationSummaries;
}

/** Predicts and scores the cases of several files, with summaries overall, per source and per GPU. */
export function validateFiles(files: readonly CaseFile[], profiles: ProfileLookup, engine?: EngineName): ValidationRun {
  const cases = files.flatMap((f) => validateCases(f.items, f.label, profiles, engine));
  return { cases, summary: summariseAll(cases) };
}

/** The entries of the files that are cases of the format (cross-validation refits on these). */
export function wellFormedCases(files: readonly CaseFile[]): ValidationCase[] {
  return files.flatMap((f) => f.items.flatMap((item) => {
    const parsed = CaseSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  }));
}

// Importers outside validation/ (io/profiles.ts, test/step/costs.test.ts) still name these here.
export type { ProfileLookup } from './adapter.js';
