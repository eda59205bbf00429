/**
 * Cross-validation of the calibrated constants (calibrate.ts), honest: every refit starts from the
 * UNFITTED profiles (the bundled curves with the recorded calibration multipliers taken out,
 * validation/calibration.json), so a held-out case never influences its own prediction.
 *
 * - `source`: for each source, refit every GPU profile on the other sources' cases, predict the
 *   held-out source's cases, repeat.
 * - `gpu`: for each GPU generation (Ampere, Hopper, Blackwell), refit the other generations and
 *   predict the held-out one with the multipliers of its nearest fitted GPU (calibration.json
 *   `nearest`): what a user planning on a generation with no measured run gets.
 *
 * In every fold a GPU with fewer than MIN_FIT_CASES training cases (all or nearly all its cases
 * held out) takes the refitted multipliers of the first GPU in its `nearest` list that has enough:
 * up to five multipliers fitted to one or two cases follow those cases, not the GPU (the A100
 * 40 GB with llm-foundry held out kept one GLM-130B case and fitted bf16 x0.64, predicting
 * llm-foundry's 78 rows on it 9 % too slow at the median, beyond 20 % for 11 of them); a GPU whose profile is
 * TRANSFERRED from another (`transferredFrom`) takes that GPU's refitted multipliers. The
 * in-sample figures refit the same way from the same base on every case. Scenarios are resolved
 * once (cases.ts prepareCases); only the GPU profiles change between refits.
 */
import type { Gpu } from '../schema/system.js';
import type { EngineName } from '../run/evaluate.js';
import type { ValidationCase } from './case.js';
import type { ProfileLookup } from './adapter.js';
import { caseSource } from './sources.js';
import { prepareCases, scorePrepared, type PreparedCase } from './cases.js';
import { applyFit, fitPrepared, unapplyFit, NO_FIT, type FitOptions, type FitParams } from './calibrate.js';
import { summarise, type CaseResult, type ValidationSummary } from './score.js';
import { residualsOf, withCaseIntervals, type ResidualTable } from './intervals.js';

/** validation/calibration.json: the multipliers inside each bundled GPU profile and how they were obtained. */
export interface CalibrationRecord {
  gpus: Record<string, {
    multipliers: Partial<FitParams>;
    fittedOn: string;
    generation: string;
    /** GPUs whose refitted multipliers this one takes when it has no training case, in order. */
    nearest: string[];
    transferredFrom?: string;
    bf16FollowsFp8?: boolean;
  }>;
}

export type CvBy = 'source' | 'gpu';

export interface CvFold {
  /** The source (or GPU generation) held out. */
  held: string;
  /** The GPU profiles refitted without it, with their multipliers (and whose they are). */
  refits: { gpu: string; params: FitParams; from: string }[];
  inSample: ValidationSummary;
  crossValidated: ValidationSummary;
}

export interface CrossValidation {
  by: CvBy;
  engine: EngineName;
  inSample: ValidationSummary;
  crossValidated: ValidationSummary;
  folds: CvFold[];
  /** Every case as predicted by the fold that held it out. */
  cases: CaseResult[];
  /** Every case as predicted by the in-sample refit. */
  inSampleCases: CaseResult[];
  /** The fold (held source or generation) of each case. */
  heldOf: string[];
  /** The cross-validated residuals the cases' intervals came from. */
  residuals: ResidualTable;
}

/** Fewest training cases on a GPU for it to take its own fit (fewer: its nearest GPU's); see the header. */
export const MIN_FIT_CASES = 8;

/** The GPU generation a case runs on (calibration.json), or its GPU name when unrecorded. */
export function caseGeneration(c: ValidationCase, calibration: CalibrationRecord): string {
  const g = c.hardware.gpu ?? 'unknown';
  return calibration.gpus[g]?.generation ?? g;
}

/** A calibration for profiles without a record: no multipliers, no neighbours. */
function recordOf(calibration: CalibrationRecord, gpu: string) {
  return calibration.gpus[gpu] ?? { multipliers: {}, fittedOn: 'not fitted', generation: gpu, nearest: [] };
}

/** The unfitted base of every GPU profile the cases name. */
export function unfittedProfiles(gpuNames: readonly string[], profiles: ProfileLookup, calibration: CalibrationRecord): Map<string, Gpu> {
  const out = new Map<string, Gpu>();
  for (const name of gpuNames) {
    const g = profiles.gpu(name);
    if (g) out.set(name, unapplyFit(g, { ...NO_FIT, ...recordOf(calibration, name).multipliers }));
  }
  return out;
}

/**
 * The refitted profiles of the GPUs `needed`: each takes its own fit on the training cases, the
 * fit of the GPU it is transferred from, or (no training case on it) its nearest fitted GPU's.
 * Fits are memoised by GPU and training cases, so a fold that holds out no case of a GPU reuses
 * the in-sample fit.
 */
function refitAll(train: readonly PreparedCase[], bases: Map<string, Gpu>, calibration: CalibrationRecord, options: FitOptions, needed: Iterable<string>, memo: Map<string, FitParams>) {
  const onGpu = (name: string) => train.filter((p) => p.case.hardware.gpu === name);
  const own = (name: string): FitParams | null => {
    const rec = recordOf(calibration, name);
    const mine = onGpu(name);
    if (rec.transferredFrom || mine.length < MIN_FIT_CASES || !bases.has(name)) return null;
    const key = `${name}\u0000${mine.map((p) => p.case.id).join('\u0000')}`;
    if (!memo.has(key)) memo.set(key, fitPrepared(mine, bases.get(name)!, { ...options, bf16FollowsFp8: rec.bf16FollowsFp8 }).params);
    return memo.get(key)!;
  };
  const refits: CvFold['refits'] = [];
  const gpus: Gpu[] = [];
  for (const name of needed) {
    const base = bases.get(name);
    if (!base) continue;
    const rec = recordOf(calibration, name);
    let params: FitParams = NO_FIT;
    let from = 'unfitted base';
    for (const n of [name, rec.transferredFrom, ...rec.nearest]) {
      const p = n ? own(n) : null;
      if (p && n) {
        params = p;
        from = n;
        break;
      }
    }
    // A bf16 curve that follows the fp8 fit follows whichever fp8 multipliers it takes.
    if (rec.bf16FollowsFp8) params = { ...params, bf16: params.fp8, shift: params.shift8 };
    refits.push({ gpu: name, params, from });
    gpus.push(applyFit(base, params));
  }
  return { gpus, refits };
}

/** Cross-validates by source or by GPU generation; cases on GPUs without a profile are scored (skipped) as they are. */
export function crossValidate(cases: readonly ValidationCase[], profiles: ProfileLookup, calibration: CalibrationRecord, options: FitOptions & { engine: EngineName; by: CvBy }): CrossValidation {
  const key = options.by === 'source' ? caseSource : (c: ValidationCase) => caseGeneration(c, calibration);
  const prepared = prepareCases(cases, profiles);
  const gpuNames = [...new Set(cases.map((c) => c.hardware.gpu).filter((g): g is string => !!g && !!profiles.gpu(g)))].sort();
  const bases = unfittedProfiles(gpuNames, profiles, calibration);
  const memo = new Map<string, FitParams>();
  const all = refitAll(prepared, bases, calibration, options, bases.keys(), memo);
  const inSample = scorePrepared(prepared, all.gpus, options.engine);
  const predicted = new Map<ValidationCase, CaseResult>();
  const folds: CvFold[] = [];
  for (const held of [...new Set(cases.map(key))].sort()) {
    const out = prepared.filter((p) => key(p.case) === held);
    const train = prepared.filter((p) => key(p.case) !== held);
 const heldGpus = new Set(out.map((p) => p.case.hardware.gpu).filter((g): g is string => !!g));
    const fold = refitAll(train, bases, calibration, options, [...heldGpus].sort(), memo);
    const results = scorePrepared(out, fold.gpus, options.engine);
    out.forEach((p, i) => predicted.set(p.case, results[i]));
    folds.push({ held, refits: fold.refits, inSample: summarise(inSample.filter((_, i) => key(cases[i]) === held)), crossValidated: summarise(results) });
  }
  // Each case's 80 % interval from the other sources' cross-validated residuals (intervals.ts):
  // its coverage is the cross-validated coverage. Not fully nested: the other sources' residuals
  // come from folds whose refits saw this case's source (a refit per pair of held-out sources
  // would cost 15x the folds); the case's own residual and its source's never enter its interval.
  const generationOf = (c: ValidationCase) => caseGeneration(c, calibration);
  const bare = cases.map((c) => predicted.get(c)!);
  const table = cvResidualTable(cases, bare, calibration, options);
  const cv = withCaseIntervals(cases, bare, table, generationOf, options.by);
  const cvOf = new Map(cases.map((c, i) => [c, cv[i]]));
  for (const f of folds) f.crossValidated = summarise(cases.filter((c) => key(c) === f.held).map((c) => cvOf.get(c)!));
  return { by: options.by, engine: options.engine, inSample: summarise(inSample), crossValidated: summarise(cv), folds, cases: cv, inSampleCases: inSample, heldOf: cases.map(key), residuals: table };
}

/** The residual table of cross-validated results (what tools/residuals.ts writes to validation/residuals.json). */
export function cvResidualTable(cases: readonly ValidationCase[], results: readonly CaseResult[], calibration: CalibrationRecord, options: { engine: EngineName; by: CvBy }): ResidualTable {
  return {
    about: 'Cross-validated throughput residuals r = predicted / measured - 1 (src/validation/intervals.ts): each case predicted with the calibrated constants refitted without its own ' + options.by + '. The 80 % prediction intervals of evaluate and validate are the 10th-90th percentiles, every source weighing the same, of the residuals comparable to a prediction: the first of (same GPU generation and software key; same generation; all) with at least 8 residuals from at least 3 sources; a prediction with a setting the model does not represent tries those pools over the not-modelled residuals (notModelled) first.',
    method: `clusterplan validate --cv ${options.by} (${options.engine === 'des' ? 'discrete-event' : 'closed-form'} engine)`,
    generations: Object.fromEntries(Object.entries(calibration.gpus).map(([g, r]) => [g, r.generation])),
    residuals: residualsOf(cases, results, (c) => caseGeneration(c, calibration)),
  };
}

/** Leave-one-source-out (kept for callers of the earlier API). */
export function crossValidateBySource(cases: readonly ValidationCase[], profiles: ProfileLookup, calibration: CalibrationRecord, options: FitOptions & { engine: EngineName }): CrossValidation {
  return crossValidate(cases, profiles, calibration, { ...options, by: 'source' });
}
