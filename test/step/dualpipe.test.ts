/**
 * DualPipe (DeepSeek-V3 §3.2.1, Table 2): bubble (PP/2 − 1)(F&B + B − 3W), parameters 2×,
 * activations PP + 1; communication at zero, so F&B = F + B.
 */
import { describe, it, expect } from 'vitest';
import { analyticStep } from '../../src/step/analytic.js';
import { dualPipeBubbleSeconds, pipelineShape } from '../../src/plan/pipeline.js';
import { planLayout, rankShard } from '../../src/plan/layout.js';
import { resolvePlan } from '../../src/plan/resolve.js';
import { PlanSchema } from '../../src/schema/plan.js';
import { shapedScenario, zeroCommCosts, layer, tiny } from './helpers.js';

describe('DualPipe', () => {
  it("the closed form's bubble is Table 2's formula with communication at zero", () => {
    // Per stage 2 layers of F 1, B 1 + W 1: F = 2, B (full) = 4, W = 2, F&B = 6 s per chunk.
    for (const pp of [2, 4, 8, 16]) {
      const m = 2 * pp;
      const sc = shapedScenario({ pp, m, schedule: 'dualpipe', overlap: { dp: false, pp: true } });
      const r = analyticStep(sc, zeroCommCosts(sc, layer(1, 1, 1)));
      // Hand-worked: (PP/2 − 1)(6 + 4 − 6) = 4·(PP/2 − 1).
      expect(r.breakdown.bubbleSeconds).toBeCloseTo(4 * (pp / 2 - 1), 12);
      expect(dualPipeBubbleSeconds(pp, { forwardAndBackwardSeconds: 6, backwardSeconds: 4, weightSeconds: 2 })).toBe(4 * (pp / 2 - 1));
      // Every rank is busy m·(F + B): m/2 micro-batches through each of its two stages.
      expect(r.stepSeconds).toBeCloseTo(m * 6 + 4 * (pp / 2 - 1), 9);
    }
  });

  it('is smaller than 1F1B’s (PP − 1)(F + B) and ZB-H1’s (PP − 1)(F + B − 2W) bubbles', () => {
    const pp = 8;
    const m = 16;
    const bubble = (schedule: 'dualpipe' | '1f1b' | 'zero-bubble') => {
      const sc = shapedScenario({ pp, m, schedule, overlap: { dp: false } });
      return analyticStep(sc, zeroCommCosts(sc, layer(1, 1, 1))).breakdown.bubbleSeconds;
    };
    expect(bubble('1f1b')).toBeCloseTo((pp - 1) * 6, 9);
    expect(bubble('zero-bubble')).toBeCloseTo((pp - 1) * (6 - 4), 9);
    expect(bubble('dualpipe')).toBeLessThan(bubble('zero-bubble'));
  });

  it('holds PP + 1 micro-batches of activations and two stages of parameters per rank', () => {
    const shape = pipelineShape({ pp: 8, vpp: 1, schedule: 'dualpipe', numMicroBatches: 32 });
    expect(shape.inFlight).toEqual(new Array(8).fill(9));
    expect(shape.parameterCopies).toBe(2);
    const sc = tiny();
    const dual = { ...sc.plan, schedule: 'dualpipe' as const };
    const layout = planLayout(sc.model, dual);
    // Rank 0 holds stage 0 and stage pp − 1 = 1 (tiny has pp 2).
    expect(rankShard(layout, 0).denseParams).toBeCloseTo(layout.stageShards[0].denseParams + layout.stageShards[1].denseParams, 6);
  });

  it('needs an even pp and an even number of micro-batches', () => {
    const sc = tiny();
    const plan = (pp: number, globalBatch: number) => resolvePlan(PlanSchema.parse({ tp: 1, pp, dp: 'auto', globalBatch, schedule: 'dualpipe' }), { ...sc.model, layers: 6 }, 6 * pp);
    expect(plan(3, 6).problems.map((p) => p.field)).toContain('plan.pp');
    expect(plan(2, 6).problems.map((p) => p.field)).toContain('plan.globalBatch');
  });
});
