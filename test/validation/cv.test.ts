/**
 * Leave-one-source-out cross-validation (issue 16, Tests): on a synthetic case set where one
 * source's cases follow a different constant, that source's cross-validated error is large while
 * its in-sample error is small; the sources that agree with each other stay small both ways.
 */
import { describe, it, expect } from 'vitest';
import { CaseSchema, type ValidationCase } from '../../src/validation/case.js';
import { scoreCasesOn } from '../../src/validation/cases.js';
import { crossValidateBySource, crossValidate, MIN_FIT_CASES } from '../../src/validation/cv.js';
import { packageProfiles } from '../../src/io/profiles.js';
import { loadCalibration } from '../../src/io/calibration.js';

const profiles = packageProfiles();
const calibration = loadCalibration();
const model = { layers: 8, hidden: 2048, ffnHidden: 8192, heads: 16, kvHeads: 16, vocab: 32000, seqLen: 2048, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope', moe: null };
const layouts = [
  { tp: 1, microBatch: 1, globalBatchSequences: 64 },
  { tp: 1, microBatch: 2, globalBatchSequences: 128 },
  { tp: 2, microBatch: 2, globalBatchSequences: 64 },
  { tp: 2, microBatch: 4, globalBatchSequences: 128 },
];
/** Sources A and B ran bf16 as the profile predicts; C alone ran fp8, 0.7x as fast as predicted. */
const sources = [
  { title: 'example/source-a', precision: 'bf16', factor: 1 },
  { title: 'example/source-b', precision: 'bf16', factor: 1 },
  { title: 'example/source-c', precision: 'fp8', factor: 0.7 },
];

function syntheticCases(): ValidationCase[] {
  const cases = sources.flatMap((s) =>
    layouts.map((l, i) =>
      CaseSchema.parse({
        id: `${s.title}-${i}`,
        source: { title: s.title },
        model,
        hardware: { gpu: 'h100-sxm-80gb', gpus: 8 },
        layout: { cp: 1, pp: 1, ep: 1, vpp: 1, dp: null, zeroStage: 1, recompute: 'none', precision: s.precision, ...l },
        measured: {},
      }),
    ),
  );
  // Measured = what the bundled profile predicts, times the source's factor.
  const predicted = scoreCasesOn(cases, profiles, 'analytic');
  return cases.map((c, i) => ({ ...c, measured: { tokensPerSecondPerGpu: predicted[i].predicted!.tokensPerSecondPerGpu * sources[Math.floor(i / layouts.length)].factor } }));
}

describe('cross-validation by source', () => {
  const cv = crossValidateBySource(syntheticCases(), profiles, calibration, { engine: 'analytic' });
  const fold = (t: string) => cv.folds.find((f) => f.held === t)!;

  it('has one fold per source and predicts every case once', () => {
    expect(cv.folds.map((f) => f.held)).toEqual(sources.map((s) => s.title));
    expect(cv.cases).toHaveLength(12);
    expect(cv.cases.every((c) => !c.skipped)).toBe(true);
  });

  it('the odd source: small in-sample (its own fp8 constant absorbs it), large held out', () => {
    const c = fold('example/source-c');
    expect(c.inSample.throughputRelError.median!).toBeLessThan(0.05);
    // Held out, nothing else constrains fp8: the prediction stays at the unfitted fp8 curve's, faster
    // still than the bundled (fitted) one, which is itself 1/0.7 - 1 = +43% too fast.
    expect(c.crossValidated.throughputRelError.median!).toBeGreaterThan(0.3);
    expect(c.refits.map((r) => r.gpu)).toEqual(['h100-sxm-80gb']);
    expect(c.refits[0].params.fp8).toBe(1);
  });

  it('the sources that agree stay small both ways', () => {
    for (const t of ['example/source-a', 'example/source-b']) {
      expect(fold(t).inSample.throughputRelError.median!).toBeLessThan(0.05);
      expect(fold(t).crossValidated.throughputRelError.median!).toBeLessThan(0.05);
    }
    expect(cv.crossValidated.throughputRelError.p90!).toBeGreaterThan(cv.inSample.throughputRelError.p90! + 0.2);
  });

  it('coverage is reported (a share in [0, 1]), not asserted to a value this test produced', () => {
    const coverage = cv.crossValidated.intervalCoverage80!;
    expect(coverage).toBeGreaterThanOrEqual(0);
    expect(coverage).toBeLessThanOrEqual(1);
  });
});

describe('cross-validation by GPU generation', () => {
  it('a generation with no fitted neighbour is predicted from the unfitted curves, and coverage is reported', () => {
    const cv = crossValidate(syntheticCases(), profiles, calibration, { engine: 'analytic', by: 'gpu' });
    expect(cv.folds.map((f) => f.held)).toEqual(['hopper']);
    // Every case runs on Hopper: held out, neither the H100 nor its nearest (H100 94 GB, A100 80 GB) has a training case.
    expect(cv.folds[0].refits).toEqual([{ gpu: 'h100-sxm-80gb', params: expect.objectContaining({ bf16: 1, fp8: 1, shift: 1 }), from: 'unfitted base' }]);
    // The unfitted bf16 curve is faster than the fitted one the measurements follow: too fast held out.
    expect(cv.crossValidated.throughputRelError.median!).toBeGreaterThan(cv.inSample.throughputRelError.median!);
    // The only generation held out leaves no residual of another generation: no interval, and no
    // coverage figure, rather than an interval from the held generation's own errors.
    expect(cv.cases.every((c) => c.predicted!.interval80 === null)).toBe(true);
    expect(cv.crossValidated.intervalCoverage80).toBeUndefined();
  });
});

describe('a GPU with too few training cases takes its nearest GPU fit', () => {
  it('one A100 case left in a fold is not fitted on its own', () => {
    // Two sources with one A100 80GB case each, beside the twelve H100 cases: holding out one
    // leaves the A100 a single training case, fewer than MIN_FIT_CASES, so it takes the fit of
    // the first GPU in its nearest list that has enough (a100-sxm-40gb has none: h100-sxm-80gb).
    const extra = ['example/source-d', 'example/source-e'].map((title) =>
      CaseSchema.parse({
        id: `${title}-a100`,
        source: { title },
        model,
        hardware: { gpu: 'a100-sxm-80gb', gpus: 8 },
        layout: { cp: 1, pp: 1, ep: 1, vpp: 1, dp: null, zeroStage: 1, recompute: 'none', precision: 'bf16', ...layouts[1] },
        measured: { tokensPerSecondPerGpu: 5000 },
      }),
    );
    expect(MIN_FIT_CASES).toBeGreaterThan(1);
    const cv = crossValidate([...syntheticCases(), ...extra], profiles, calibration, { engine: 'analytic', by: 'source' });
    const d = cv.folds.find((f) => f.held === 'example/source-d')!;
    expect(d.refits).toEqual([expect.objectContaining({ gpu: 'a100-sxm-80gb', from: 'h100-sxm-80gb' })]);
  });
});
