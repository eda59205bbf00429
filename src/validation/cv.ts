/**
 * Leave-one-source-out cross-validation of the calibrated constants (calibrate.ts): for each
 * source, refit every GPU profile its cases run on with that source's cases held out, predict the
 * held-out cases with the refitted profiles, and repeat; beside it the in-sample figures, where
 * each GPU is refitted on all cases. The refits start from the bundled profiles, whose curves were
 * fitted on every dev case, so a search that stops in the nearest optimum keeps some of the held
 * source's influence: the cross-validated error is a lower bound on the honest one.
 */
import type { EngineName } from '../run/evaluate.js';
import type { ValidationCase } from './case.js';
import type { ProfileLookup } from './adapter.js';
import { caseSource } from './sources.js';
import { scoreCasesOn } from './cases.js';
import { fitGpu, withGpu, type FitOptions, type FitParams } from './calibrate.js';
import { summarise, type CaseResult, type ValidationSummary } from './score.js';

export interface CvFold {
  /** The source held out. */
  held: string;
  /** The GPU profiles refitted without it, with their multipliers. */
  refits: { gpu: string; params: FitParams }[];
  inSample: ValidationSummary;
  crossValidated: ValidationSummary;
}

export interface CrossValidation {
  by: 'source';
  engine: EngineName;
  inSample: ValidationSummary;
  crossValidated: ValidationSummary;
  folds: CvFold[];
  /** Every case as predicted by the fold that held its source out. */
  cases: CaseResult[];
}

/** Profiles with each named GPU refitted on the cases. */
function refit(cases: readonly ValidationCase[], gpus: readonly string[], profiles: ProfileLookup, options: FitOptions) {
  let fitted = profiles;
  const refits: { gpu: string; params: FitParams }[] = [];
  for (const g of gpus) {
    const fit = fitGpu(cases, g, profiles, options);
    fitted = withGpu(fitted, fit.gpu);
    refits.push({ gpu: g, params: fit.params });
  }
  return { profiles: fitted, refits };
}

/** Cross-validates by source; cases on GPUs without a profile are scored (skipped) as they are. */
export function crossValidateBySource(cases: readonly ValidationCase[], profiles: ProfileLookup, options: FitOptions & { engine: EngineName }): CrossValidation {
  const gpusOf = (cs: readonly ValidationCase[]) => [...new Set(cs.map((c) => c.hardware.gpu).filter((g): g is string => !!g && !!profiles.gpu(g)))].sort();
  const all = refit(cases, gpusOf(cases), profiles, options);
  const inSample = scoreCasesOn(cases, all.profiles, options.engine);
  const sources = [...new Set(cases.map(caseSource))].sort();
  const predicted = new Map<ValidationCase, CaseResult>();
  const folds: CvFold[] = [];
  for (const held of sources) {
    const out = cases.filter((c) => caseSource(c) === held);
    const train = cases.filter((c) => caseSource(c) !== held);
    const fold = refit(train, gpusOf(out), profiles, options);
    const results = scoreCasesOn(out, fold.profiles, options.engine);
    out.forEach((c, i) => predicted.set(c, results[i]));
    folds.push({ held, refits: fold.refits, inSample: summarise(inSample.filter((_, i) => caseSource(cases[i]) === held)), crossValidated: summarise(results) });
  }
  const cv = cases.map((c) => predicted.get(c)!);
  return { by: 'source', engine: options.engine, inSample: summarise(inSample), crossValidated: summarise(cv), folds, cases: cv };
}
