/**
 * The not-modelled pools of the 80 % intervals (src/validation/intervals.ts header): a prediction
 * with a setting the model does not represent draws its interval from the residuals of
 * not-modelled cases (same MIN_GROUP / MIN_SOURCES, its own source left out) and falls back to
 * every residual when too few; a modelled prediction pools over every residual. Hand-worked on a
 * synthetic table where the not-modelled residuals are wide and the modelled ones narrow.
 */
import { describe, it, expect } from 'vitest';
import { residualQuantiles, residualsOf, throughputInterval, withCaseIntervals, withIntervals, MIN_GROUP, MIN_SOURCES, type Residual, type ResidualTable } from '../../src/validation/intervals.js';
import type { CaseResult } from '../../src/validation/score.js';
import type { ValidationCase } from '../../src/validation/case.js';
import type { Evaluation } from '../../src/run/evaluate.js';

const res = (source: string, r: number, notModelled?: string[], generation = 'hopper', software = 'mc'): Residual => ({
  id: `${source}-${r}`, source, generation, software, throughputRel: r, ...(notModelled ? { notModelled } : {}),
});
// Eight modelled sources, one residual each: -0.04, -0.03, ..., +0.03 (narrow).
const modelled = Array.from({ length: 8 }, (_, i) => res(`m${i}`, Number((-0.04 + 0.01 * i).toFixed(2))));
// Eight not-modelled sources, one residual each: -0.2, -0.1, ..., +0.5 (wide).
const notModelled = Array.from({ length: 8 }, (_, i) => res(`n${i}`, Number((-0.2 + 0.1 * i).toFixed(1)), ['MoE dispatcher hybridep (costed as all-to-all)']));
const table: ResidualTable = { about: '', method: 'hand-worked', generations: { 'h100-sxm-80gb': 'hopper' }, residuals: [...modelled, ...notModelled] };

describe('not-modelled predictions draw from not-modelled residuals', () => {
  it('a not-modelled prediction gets the wide interval of the not-modelled cases (hand-worked)', () => {
    // Eight values, equal weights, the k-th at (k - 0.5) / 8 (type 5): q10 between k = 1 (0.0625,
    // -0.2) and k = 2 (0.1875, -0.1): -0.2 + 0.3 * 0.1 = -0.17; q90 between k = 7 (0.8125, 0.4)
    // and k = 8 (0.9375, 0.5): 0.4 + 0.7 * 0.1 = 0.47.
    const q = residualQuantiles(table, { generation: 'hopper', software: 'mc', notModelled: true })!;
    expect(q.pool).toBe('not-modelled cases, hopper / mc');
    expect(q.n).toBe(8);
    expect(q.sources).toBe(8);
    expect(q.q10).toBeCloseTo(-0.17, 12);
    expect(q.q90).toBeCloseTo(0.47, 12);
  });

  it('a modelled prediction pools over every residual, narrower than the not-modelled one (hand-worked)', () => {
    // Sixteen values sorted: -0.2, -0.1, -0.04, -0.03, -0.02, -0.01, 0, 0, 0.01, 0.02, 0.03, 0.1,
    // 0.2, 0.3, 0.4, 0.5 at (k - 0.5) / 16. q10 between k = 2 (0.09375, -0.1) and k = 3 (0.15625,
    // -0.04): -0.1 + 0.1 * 0.06 = -0.094; q90 between k = 14 (0.84375, 0.3) and k = 15 (0.90625,
    // 0.4): 0.3 + 0.9 * 0.1 = 0.39.
    const q = residualQuantiles(table, { generation: 'hopper', software: 'mc' })!;
    expect(q.pool).toBe('hopper / mc');
    expect(q.n).toBe(16);
    expect(q.q10).toBeCloseTo(-0.094, 12);
    expect(q.q90).toBeCloseTo(0.39, 12);
    const wide = throughputInterval(1000, residualQuantiles(table, { generation: 'hopper', software: 'mc', notModelled: true })!);
    const pooled = throughputInterval(1000, q);
    expect(pooled[1] - pooled[0]).toBeLessThan(wide[1] - wide[0]);
    // The same prediction without a not-modelled setting: notModelled false is the default.
    expect(residualQuantiles(table, { generation: 'hopper', software: 'mc', notModelled: false })).toEqual(q);
  });

  it('not being modelled never narrows an interval: a not-modelled pool that scatters less than every case is widened to the general pool', () => {
    // Not-modelled residuals narrow (eight sources: 0.00 .. 0.07), modelled ones wide (-0.2 .. 0.5).
    const narrowNm = Array.from({ length: 8 }, (_, i) => res(`n${i}`, Number((0.01 * i).toFixed(2)), ['fp8 recipe bookkeeping']));
    const wideM = Array.from({ length: 8 }, (_, i) => res(`m${i}`, Number((-0.2 + 0.1 * i).toFixed(1))));
    const t: ResidualTable = { ...table, residuals: [...narrowNm, ...wideM] };
    const nm = residualQuantiles(t, { generation: 'hopper', software: 'mc', notModelled: true })!;
    const general = residualQuantiles(t, { generation: 'hopper', software: 'mc' })!;
    // Not-modelled alone: q10 = 0 + 0.3 * 0.01 = 0.003, q90 = 0.06 + 0.7 * 0.01 = 0.067 (type 5, as above).
    expect(nm.q10).toBeCloseTo(Math.min(0.003, general.q10), 12);
    expect(nm.q90).toBeCloseTo(Math.max(0.067, general.q90), 12);
    expect(nm.q10).toBe(general.q10);
    expect(nm.q90).toBe(general.q90);
    expect(nm.pool).toBe('not-modelled cases, hopper / mc, widened to hopper / mc');
    expect(nm.n).toBe(16);
    expect(nm.sources).toBe(16);
  });

  it('the not-modelled pools step down generation and software like the others', () => {
    // No not-modelled residual on Blackwell: the third not-modelled level, every generation.
    const q = residualQuantiles(table, { generation: 'blackwell', software: 'mb', notModelled: true })!;
    expect(q.pool).toBe('not-modelled cases, all generations');
    expect(q.q90).toBeCloseTo(0.47, 12);
  });

  it('leaving sources out: below MIN_SOURCES not-modelled sources the prediction falls back to every residual, and says so', () => {
    expect(MIN_SOURCES).toBe(3);
    // Six of the eight not-modelled sources left out: two remain (< MIN_SOURCES) and the two of them hold 2 < MIN_GROUP residuals.
    const gone = new Set(['n0', 'n1', 'n2', 'n3', 'n4', 'n5']);
    const q = residualQuantiles(table, { generation: 'hopper', software: 'mc', notModelled: true }, (r) => gone.has(r.source))!;
    expect(q.pool).toBe('hopper / mc (too few not-modelled cases)');
    expect(q.n).toBe(10);
    // Ten values -0.04 .. 0.03, 0.4, 0.5 at (k - 0.5) / 10: q90 between k = 9 (0.85, 0.4) and k = 10 (0.95, 0.5): 0.45.
    expect(q.q90).toBeCloseTo(0.45, 12);
  });

  it('MIN_SOURCES holds with enough residuals: twelve not-modelled residuals from two sources do not make a pool', () => {
    const two = [...Array.from({ length: 6 }, (_, i) => res('a', 0.5 + 0.01 * i, ['x'])), ...Array.from({ length: 6 }, (_, i) => res('b', 0.6 + 0.01 * i, ['x']))];
    expect(two.length).toBeGreaterThanOrEqual(MIN_GROUP);
    const q = residualQuantiles({ ...table, residuals: [...modelled, ...two] }, { generation: 'hopper', software: 'mc', notModelled: true })!;
    expect(q.pool).toBe('hopper / mc (too few not-modelled cases)');
    expect(q.sources).toBe(10);
  });

  it('MIN_GROUP holds with enough sources: five not-modelled sources of one residual each do not make a pool', () => {
    const q = residualQuantiles({ ...table, residuals: [...modelled, ...notModelled.slice(0, 5)] }, { generation: 'hopper', software: 'mc', notModelled: true })!;
    expect(5).toBeLessThan(MIN_GROUP);
    expect(q.pool).toMatch(/too few not-modelled cases/);
  });
});

describe('the callers pass what is not modelled', () => {
  const caseOf = (id: string): ValidationCase => ({ id, source: {}, model: {}, hardware: { gpu: 'h100-sxm-80gb' }, layout: {}, measured: {}, flags: [], software: 'mc' }) as never;
  const result = (source: string, nm: string[]): CaseResult => ({
    id: 'x', source, gpu: 'h100-sxm-80gb', skipped: false, reason: null, fitsScored: false,
    predicted: { stepSeconds: 1, tokensPerSecondPerGpu: 1000, tflopsPerGpu: 1, mfu: 0.5, memoryGiBPerGpu: 1, fits: true },
    measured: { stepSeconds: null, tokensPerSecondPerGpu: 1000, tflopsPerGpu: null, mfu: null, mfuPeakTflops: null, memoryGiBPerGpu: null },
    errors: { throughputRel: 0.1, mfuPoints: null, memoryRel: null },
    software: { name: 'mc', fallback: false, notModelled: nm },
  });

  it('validate: a not-modelled case takes the not-modelled pool without its own source, a modelled case the pooled one', () => {
    // A ninth not-modelled source at +0.6, so that eight remain with the case's own n0 (-0.2) left
    // out: -0.1 .. 0.6 at (k - 0.5) / 8; q10 between k = 1 (0.0625, -0.1) and k = 2 (0.1875, 0):
    // -0.1 + 0.3 * 0.1 = -0.07; q90 between k = 7 (0.8125, 0.5) and k = 8 (0.9375, 0.6): 0.5 + 0.7
    // * 0.1 = 0.57. Interval [1000 / 1.57, 1000 / 0.93].
    const nine: ResidualTable = { ...table, residuals: [...table.residuals, res('n8', 0.6, ['x'])] };
    const [nmCase, mCase] = withCaseIntervals([caseOf('a'), caseOf('b')], [result('n0', ['x']), result('m0', [])], nine, () => 'hopper');
    expect(nmCase.predicted!.interval80![0]).toBeCloseTo(1000 / 1.57, 9);
    expect(nmCase.predicted!.interval80![1]).toBeCloseTo(1000 / 0.93, 9);
    const q = residualQuantiles(nine, { generation: 'hopper', software: 'mc' }, (r) => r.source === 'm0')!;
    expect(mCase.predicted!.interval80).toEqual(throughputInterval(1000, q));
  });

  it('validate: with its own source left out, seven not-modelled residuals (< MIN_GROUP) send the case to every residual', () => {
    const [nmCase] = withCaseIntervals([caseOf('a')], [result('n0', ['x'])], table, () => 'hopper');
    const q = residualQuantiles(table, { generation: 'hopper', software: 'mc' }, (r) => r.source === 'n0')!;
    expect(nmCase.predicted!.interval80).toEqual(throughputInterval(1000, q));
    // Fifteen values -0.1, -0.04 .. 0.03, 0.1 .. 0.5 at (k - 0.5) / 15: q90 between k = 13 (0.8333, 0.3) and k = 14 (0.9, 0.4) is 0.4.
    expect(q.q90).toBeCloseTo(0.4, 12);
  });

  it('the residual table records what each case did not model', () => {
    const rs = residualsOf([caseOf('a'), caseOf('b')], [result('n0', ['x']), result('m0', [])], () => 'hopper');
    expect(rs[0].notModelled).toEqual(['x']);
    expect(rs[1].notModelled).toBeUndefined();
  });

  it('evaluate: a scenario with a not-modelled setting names the not-modelled pool', () => {
    const ev = { step: { seconds: 2 }, throughput: { tokensPerSecondPerGpu: 1000 }, run: { idealDays: 10 } } as unknown as Evaluation;
    const nm = withIntervals(ev, table, 'h100-sxm-80gb', 'mc', ['MoE dispatcher hybridep (costed as all-to-all)']);
    expect(nm.throughput.intervalPool).toBe('not-modelled cases, hopper / mc, 8 cases from 8 sources');
    expect(nm.throughput.interval80![0]).toBeCloseTo(1000 / 1.47, 9);
    expect(nm.run.idealDaysInterval80![1]).toBeCloseTo(10 * 1.47, 9);
    const m = withIntervals(ev, table, 'h100-sxm-80gb', 'mc');
    expect(m.throughput.intervalPool).toBe('hopper / mc, 16 cases from 16 sources');
  });
});

describe('the residual table file', () => {
  it('a residual whose notModelled is not a list of setting names is an error naming the field', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { loadResidualTable } = await import('../../src/io/calibration.js');
    const dir = mkdtempSync(join(tmpdir(), 'residuals-'));
    const file = join(dir, 'residuals.json');
    const good = { about: '', method: '', generations: {}, residuals: [{ id: 'a', source: 's', generation: 'hopper', software: 'mc', throughputRel: 0.1, notModelled: ['x'] }] };
    writeFileSync(file, JSON.stringify(good));
    expect(loadResidualTable(file).residuals[0].notModelled).toEqual(['x']);
    writeFileSync(file, JSON.stringify({ ...good, residuals: [{ ...good.residuals[0], notModelled: 'x' }] }));
    expect(() => loadResidualTable(file)).toThrow(/notModelled/);
    try {
      loadResidualTable(file);
    } catch (e) {
      expect((e as { format(): string }).format()).toContain('residuals.0.notModelled');
    }
  });
});
