/**
 * 80 % prediction intervals (issue 16 item 4, src/validation/intervals.ts) against a hand-worked
 * residual set, the pooling rule, coverage, and the keys evaluate and validate print.
 */
import { describe, it, expect } from 'vitest';
import { residualQuantiles, throughputInterval, timeInterval, weightedQuantile, MIN_GROUP, MIN_SOURCES, type ResidualTable, type Residual } from '../../src/validation/intervals.js';
import { insideInterval, summarise, type CaseResult } from '../../src/validation/score.js';
import { loadResidualTable } from '../../src/io/calibration.js';

const res = (i: number, generation: string, software: string, r: number, source = `src-${i}`): Residual => ({ id: `c${i}`, source, generation, software, throughputRel: r });

// Ten Hopper / megatron residuals -0.20, -0.15, ..., +0.25 (step 0.05), each from its own source, so
// equal weights: the k-th value sits at (k - 0.5) / 10 (type 5). q10 at k = 1.5 -> -0.20 + 0.5 * 0.05
// = -0.175; q90 at k = 9.5 -> 0.20 + 0.5 * 0.05 = 0.225.
const hopper = Array.from({ length: 10 }, (_, i) => res(i, 'hopper', 'megatron', -0.2 + 0.05 * i));
const ampere = Array.from({ length: 3 }, (_, i) => res(100 + i, 'ampere', 'foundry', 0.5));
const table: ResidualTable = { about: '', method: 'hand-worked', generations: { 'h100-sxm-80gb': 'hopper' }, residuals: [...hopper, ...ampere] };

describe('residual quantiles and intervals', () => {
  it('hand-worked quantiles of the matching group', () => {
    const q = residualQuantiles(table, { generation: 'hopper', software: 'megatron' })!;
    expect(q.q10).toBeCloseTo(-0.175, 12);
    expect(q.q90).toBeCloseTo(0.225, 12);
    expect(q.pool).toBe('hopper / megatron');
    expect(q.n).toBe(10);
    // A prediction of 1,000 tokens/s: the measurement is 1000 / (1 + r), so [1000 / 1.225, 1000 / 0.825].
    const [lo, hi] = throughputInterval(1000, q);
    expect(lo).toBeCloseTo(816.326530612, 6);
    expect(hi).toBeCloseTo(1212.121212121, 6);
    // Times scale inversely: a 2 s step measures 2 (1 + r), so [1.65, 2.45].
    const [tlo, thi] = timeInterval(2, q);
    expect(tlo).toBeCloseTo(1.65, 12);
    expect(thi).toBeCloseTo(2.45, 12);
  });

  it('pools: an unknown software falls back to its generation, a thin generation to every case', () => {
    expect(residualQuantiles(table, { generation: 'hopper', software: 'torchtitan' })!.pool).toBe('hopper / all software');
    const all = residualQuantiles(table, { generation: 'ampere', software: 'foundry' })!;
    expect(ampere.length).toBeLessThan(MIN_GROUP);
    expect(all.pool).toBe('all cases');
    expect(all.n).toBe(13);
  });

  it('leaving a source out moves the quantiles; too few residuals gives none', () => {
    const without = residualQuantiles(table, { generation: 'hopper', software: 'megatron' }, (r) => r.id === 'c9');
    // Nine left (still at least MIN_GROUP, so the same pool): the top residual gone, q90 drops below 0.225.
    expect(without!.q90).toBeLessThan(0.225);
    expect(residualQuantiles({ ...table, residuals: ampere }, { generation: 'ampere', software: 'foundry' })).toBeNull();
  });
});

describe('a new source: pools of several sources, each source weighing the same', () => {
  it('weighted quantiles by hand', () => {
    // Values 0, 1 with weights 3, 1: positions 1.5 / 4 = 0.375 and 3.5 / 4 = 0.875.
    expect(weightedQuantile([1, 0], [1, 3], 0.5)).toBeCloseTo(0.25, 12); // (0.5 - 0.375) / 0.5
    expect(weightedQuantile([1, 0], [1, 3], 0.1)).toBe(0);
    expect(weightedQuantile([1, 0], [1, 3], 0.9)).toBe(1);
  });

  it('a software group of fewer than MIN_SOURCES sources falls back to its generation', () => {
    // Twelve residuals of one source on hopper / nemo, and four other sources on hopper.
    const one = Array.from({ length: 12 }, (_, i) => res(200 + i, 'hopper', 'nemo', 0.01 * i, 'big'));
    const t: ResidualTable = { ...table, residuals: [...one, ...hopper.slice(0, 4)] };
    expect(MIN_SOURCES).toBeGreaterThan(1);
    expect(residualQuantiles(t, { generation: 'hopper', software: 'nemo' })!.pool).toBe('hopper / all software');
  });

  it('a source with many cases weighs as much as a source with one', () => {
    // 'big' has 99 residuals at 0; 'a', 'b', 'c', 'd' one each at 0.4. By source: five sources,
    // four at 0.4, so the median is 0.4 (by case it would be 0).
    const big = Array.from({ length: 99 }, (_, i) => res(300 + i, 'hopper', 'x', 0, 'big'));
    const few = ['a', 'b', 'c', 'd'].map((s, i) => res(400 + i, 'hopper', 'x', 0.4, s));
    const t: ResidualTable = { ...table, residuals: [...big, ...few] };
    const q = residualQuantiles(t, { generation: 'hopper', software: 'x' })!;
    expect(q.sources).toBe(5);
    // 'big' at position 0.1 (half its weight 0.2); the first 0.4 at 0.3: q10 is exactly big's 0.
    expect(q.q10).toBe(0);
    expect(q.q90).toBeCloseTo(0.4, 12);
  });
});

describe('coverage', () => {
  const result = (measured: number, interval: [number, number]): CaseResult => ({
    id: 'x', source: 's', gpu: 'g', skipped: false, reason: null, fitsScored: false,
    predicted: { stepSeconds: 1, tokensPerSecondPerGpu: 1000, tflopsPerGpu: 1, mfu: 0.5, memoryGiBPerGpu: 1, fits: true, interval80: interval },
    measured: { stepSeconds: null, tokensPerSecondPerGpu: measured, tflopsPerGpu: null, mfu: null, mfuPeakTflops: null, memoryGiBPerGpu: null },
    errors: { throughputRel: 1000 / measured - 1, mfuPoints: null, memoryRel: null },
  });

  it('counts a measurement inside its interval, and the share over cases', () => {
    expect(insideInterval(result(900, [850, 1100]))).toBe(true);
    expect(insideInterval(result(800, [850, 1100]))).toBe(false);
    expect(insideInterval(result(1200, [850, 1100]))).toBe(false);
    expect(summarise([result(900, [850, 1100]), result(800, [850, 1100]), result(1000, [850, 1100]), result(1200, [850, 1100])]).intervalCoverage80).toBe(0.5);
  });

  it('the shipped residual table (validation/residuals.json) is cross-validated and keyed', () => {
    const shipped = loadResidualTable();
    expect(shipped.method).toMatch(/--cv source/);
    expect(shipped.residuals.length).toBeGreaterThan(100);
    expect(Object.keys(shipped.generations)).toContain('h100-sxm-80gb');
  });
});
