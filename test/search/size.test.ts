/** Sizing is monotone (a later deadline never needs more GPUs, a bigger budget never gives a slower run); the scaling laws reproduce their papers. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../../src/io/load.js';
import { sizeCurve, sizeCluster, pickForDeadline, pickForBudget } from '../../src/search/size.js';
import { computeOptimal, llamaShape, LLAMA3_ALPHA } from '../../src/search/scaling.js';
import { countParams } from '../../src/model/params.js';
import { resolveModel } from '../../src/model/resolved.js';

const sc = loadScenario(join(packageRoot, 'scenarios', 'llama3-8b.yaml'), { sets: ['training.totalTokens=200B'] });

describe('size', () => {
  const { points } = sizeCurve(sc, { maxGpus: 256, minGpus: 32, trials: 5, budgetUsd: Infinity });
  it('with global batches, chooses one of them at every size and reports it as plan.globalBatch', () => {
    const tiny = loadScenario(join(packageRoot, 'scenarios', 'tiny.yaml'));
    const r = sizeCluster(tiny, { maxGpus: 16, minGpus: 8, trials: 3, budgetUsd: Infinity, globalBatches: [8, 16] });
    for (const p of r.curve) if (p.days !== null) expect([8, 16]).toContain(p.globalBatchSequences);
    expect(r.plan?.globalBatch).toBe(r.curve.find((p) => p.gpus === r.gpus)!.globalBatchSequences);
    expect(r.scaling.globalBatch).toMatch(/chosen at each size from 8, 16 sequences/);
  });

  it('covers the grid with a plan at every size that fits', () => {
    expect(points.map((p) => p.gpus)).toEqual([32, 48, 64, 96, 128, 192, 256]);
    for (const p of points) expect(p.days).not.toBeNull();
  });

  it('never needs more GPUs for a later deadline, nor gives a slower run for a bigger budget', () => {
    const days = points.map((p) => p.days!);
    const costs = points.map((p) => p.costUsd!);
    fc.assert(
      fc.property(fc.double({ min: Math.min(...days) * 0.9, max: Math.max(...days) * 1.1, noNaN: true }), fc.double({ min: 1, max: 2, noNaN: true }), (d, f) => {
        const a = pickForDeadline(points, d);
        const b = pickForDeadline(points, d * f);
        if (a >= 0) expect(b).toBeGreaterThanOrEqual(0);
        if (a >= 0) expect(points[b].gpus).toBeLessThanOrEqual(points[a].gpus);
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: Math.min(...costs) * 0.9, max: Math.max(...costs) * 1.1, noNaN: true }), fc.double({ min: 1, max: 2, noNaN: true }), (u, f) => {
        const a = pickForBudget(points, u);
        const b = pickForBudget(points, u * f);
        if (a >= 0) expect(points[b].days!).toBeLessThanOrEqual(points[a].days!);
      }),
    );
  });

  it('picks the same size end to end as on the curve, with spares and batch scaled with the cluster', () => {
    const deadlineDays = points[4].days! * 1.001;
    const r = sizeCluster(sc, { deadlineSeconds: deadlineDays * 86400, maxGpus: 256, minGpus: 32, trials: 5 });
    expect(r.gpus).toBe(points[pickForDeadline(points, deadlineDays)].gpus);
    const later = sizeCluster(sc, { deadlineSeconds: deadlineDays * 2 * 86400, maxGpus: 256, minGpus: 32, trials: 5 });
    expect(later.gpus!).toBeLessThanOrEqual(r.gpus!);
    // llama3-8b: 256 sequences and 1 spare node on 128 GPUs (16 nodes).
    const at256 = points.find((p) => p.gpus === 256)!;
    expect([at256.globalBatchSequences, at256.spareNodes]).toEqual([512, 2]);
  });
});

describe('scaling laws', () => {
  it('Llama 3 §3.2.1: 16.55T tokens at 3.8e25 FLOPs, 383B parameters by 6ND; the printed (0.53, 0.29) give 10.5T', () => {
    const r = computeOptimal(3.8e25, 'llama3');
    expect(r.tokensOptimal / 16.55e12).toBeCloseTo(1, 10);
    expect(r.paramsOptimal / 1e9).toBeCloseTo(382.68, 1); // 3.8e25 / (6 · 16.55e12)
    expect(LLAMA3_ALPHA).toBeCloseTo(0.5378, 4);
    expect(r.sensitivity.find((s) => s.alpha === 0.53)!.tokens / 1e12).toBeCloseTo(10.46, 1); // 0.29 · (3.8e25)^0.53
    // The paper's 402B: 402e9 · 16.55e12 · 6 = 3.99e25 FLOPs.
    expect((402e9 * 16.55e12 * 6) / 1e25).toBeCloseTo(3.99, 2);
  });

  it('Chinchilla Approach 3: 32.2B parameters at Gopher’s 5.76e23 FLOPs (G = 1.3447, a = 0.4516, hand-worked)', () => {
    const r = computeOptimal(5.76e23, 'chinchilla');
    expect(r.paramsOptimal / 1e9).toBeCloseTo(32.19, 1);
    expect(r.paramsOptimal * r.tokensOptimal * 6).toBeCloseTo(5.76e23, -19);
  });

  it('gives a Llama-style shape within 3% of the target size', () => {
    for (const target of [8e9, 70e9, 405e9]) {
      const m = llamaShape(target, 8192);
      expect(Math.abs(countParams(resolveModel(m)).total / target - 1)).toBeLessThan(0.03);
      expect(m.hidden % 1024).toBe(0);
    }
  });
});
