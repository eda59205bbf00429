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
import { shapedScenario, zeroCommCosts, layer, tiny, scenarioFile } from './helpers.js';
import { desStep, desRunsSchedule } from '../../src/step/des.js';
import { dualPipeSchedule } from '../../src/step/des/dualpipe.js';
import { loadScenario } from '../../src/io/load.js';
import { evaluate, tracedStep } from '../../src/run/evaluate.js';
import { buildChromeTrace } from '../../src/report/chrome-trace.js';

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

  // The discrete-event engine runs the reference implementation's order (deepseek-ai/DualPipe
  // dualpipe.py DualPipe.step): chunk 0 is direction 0 (rank r runs stage r), chunk 1 direction 1
  // (stage pp − 1 − r), micro-batches numbered within their direction.
  const order = (pp: number, m: number, r: number) => dualPipeSchedule(pp, m, r).map((o) => `${o.phase}${o.chunk}.${o.microBatch}`).join(' ');

  it('runs the reference schedule: hand-worked op order for pp 4, m 8', () => {
    // Rank 0 (half_rank 0): step 1 two F0, step 2 [F0 F1], step 3 [B1 (W deferred) W F1], step 4 once
    // [F0&B1 F1&B0], step 5 [B1 F1&B0], step 6 [B1 B0 (deferred)], step 7 [W B0 (deferred)], step 8 W.
    expect(order(4, 8, 0)).toBe('F0.0 F0.1 F0.2 F1.0 B1.0 W1.0 F1.1 F0.3 B1.1 W1.1 F1.2 B0.0 W0.0 B1.2 W1.2 F1.3 B0.1 W0.1 B1.3 W1.3 B0.2 W0.2 B0.3 W0.3');
    // Rank 1 (half_rank 1, a middle rank): step 2 twice, step 4 twice, step 6 twice with the second
    // pair deferred, step 8 two W.
    expect(order(4, 8, 1)).toBe('F0.0 F1.0 F0.1 F1.1 F0.2 B1.0 W1.0 F1.2 B0.0 W0.0 F0.3 B1.1 W1.1 F1.3 B0.1 W0.1 B1.2 W1.2 B0.2 W0.2 B1.3 B0.3 W1.3 W0.3');
    // The second half mirrors the first with the directions swapped.
    const swap = (x: string) => x.replace(/([FBW])([01])/g, (_, p: string, c: string) => `${p}${1 - Number(c)}`);
    expect(order(4, 8, 3)).toBe(swap(order(4, 8, 0)));
    expect(order(4, 8, 2)).toBe(swap(order(4, 8, 1)));
  });

  it('runs a small case as hand-worked: pp 4, m 8, one layer per stage of F 1, input backward 1, W 1', () => {
    const sc = shapedScenario({ pp: 4, m: 8, schedule: 'dualpipe', layersPerStage: 1, overlap: { dp: false, pp: true } });
    const r = desStep(sc, zeroCommCosts(sc, layer(1, 1, 1)));
    // Rank 0, micro-batches of direction 1 numbered 4..7. F1.4 waits for ranks 3, 2, 1 to pass it
    // on (ends 1, 2, 3); B1.4 follows at once (rank 0 is direction 1's last stage). The F&B block
    // [F1.6, B0.0 + W0.0] needs B0.0's gradient, which rank 1 sends when its own block
    // [F1.6, B0.0 + W0.0] (started at 8) ends at 11: rank 0 idles from 10 to 11, and for the same
    // reason from 16 to 17 (rank 1's [F1.7, B0.1 + W0.1] ends at 17). The step ends at
    // 26 = 8·3 of work + Table 2's (4/2 − 1)(3 + 2 − 3) = 2.
    const rank0 = r.detail.ops.filter((o) => o.stage === 0 && o.stream === 'compute' && o.phase).map((o) => `${o.kind}${o.chunk}.${o.microBatch}@${o.startSeconds}`);
    expect(rank0.join(' ')).toBe('F0.0@0 F0.1@1 F0.2@2 F1.4@3 B1.4@4 W1.4@5 F1.5@6 F0.3@7 B1.5@8 W1.5@9 F1.6@11 B0.0@12 W0.0@13 B1.6@14 W1.6@15 F1.7@17 B0.1@18 W0.1@19 B1.7@20 W1.7@21 B0.2@22 W0.2@23 B0.3@24 W0.3@25');
    expect(r.stepSeconds).toBe(26);
  });

  it("the DES bubble is Table 2's (PP/2 − 1)(F&B + B − 3W) with communication at zero (F ≤ input backward, W ≤ input backward)", () => {
    // One layer per stage, so a chunk's F, input-backward and W are the layer's; B = input + W, F&B = F + B.
    const cases: [number, number, number][] = [
      [1, 1, 1], // the zero-bubble papers' equal passes: (1 + 2) + 2 − 3 = 2 per half-pipeline hop
      [1, 2, 1], // 4 + 3 − 3 = 4
      [1, 1, 0], // no weight pass to fill with: 2 + 1 = 3
    ];
    for (const [f, bi, w] of cases) {
      for (const pp of [4, 8, 16]) {
        const m = 2 * pp + 4;
        const sc = shapedScenario({ pp, m, schedule: 'dualpipe', layersPerStage: 1, overlap: { dp: false, pp: true } });
        const r = desStep(sc, zeroCommCosts(sc, layer(f, bi, w)));
        const B = bi + w;
        const bubble = dualPipeBubbleSeconds(pp, { forwardAndBackwardSeconds: f + B, backwardSeconds: B, weightSeconds: w });
        expect(r.stepSeconds).toBeCloseTo(m * (f + B) + bubble, 9);
        // Every rank holds PP + 1 micro-batches of activations at its peak (Table 2).
        for (const st of r.detail.stages) expect(st.inFlightPeak).toBe(pp + 1);
      }
    }
  });

  it('the DES bubble is never below Table 2’s formula, and exceeds it when the forward outlasts the input backward', () => {
    const pp = 8;
    const m = 24;
    const sc = shapedScenario({ pp, m, schedule: 'dualpipe', layersPerStage: 1, overlap: { dp: false, pp: true } });
    // F 2, input backward 1, W 1: the formula gives 3·(2 + 2 + 2 − 3) = 9. The reference order
    // run on the DES leaves 3·4 = 12 (a recorded value, not from the report: Table 2's formula
    // assumes passes no longer than the input backward, as the zero-bubble papers' equal passes).
    const r = desStep(sc, zeroCommCosts(sc, layer(2, 1, 1)));
    expect(r.stepSeconds - m * 4).toBeCloseTo(12, 9);
    expect(dualPipeBubbleSeconds(pp, { forwardAndBackwardSeconds: 4, backwardSeconds: 2, weightSeconds: 1 })).toBe(9);
  });

  it('evaluates and traces DeepSeek-V3 on 2,048 H800s with the DES (120 micro-batches, pp 16)', () => {
    const sc = loadScenario(scenarioFile('deepseek-v3-h800'));
    expect(desRunsSchedule('dualpipe', sc.plan.pp, sc.plan.numMicroBatches)).toBe(true);
    const des = evaluate(sc);
    const closed = evaluate(sc, { engine: 'analytic' });
    expect(des.notes.some((n) => n.includes('closed form'))).toBe(false);
    // The engines agree on the primitives; the DES runs the schedule, the closed form its formula.
    expect(Math.abs(des.step.seconds / closed.step.seconds - 1)).toBeLessThan(0.02);
    const step = tracedStep(sc);
    expect(step.detail.stages.map((s) => s.inFlightPeak)).toEqual(new Array(16).fill(17));
    // Direction-1 activations go from rank s to rank s − 1 in the trace.
    const trace = buildChromeTrace(sc, step);
    const sends = trace.traceEvents.filter((e) => e.cat === 'pp' && e.pid === 6 && e.args?.chunk === 1 && String(e.name).startsWith('send activation'));
    expect(sends.length).toBe(60);
    expect(sends.every((e) => String(e.name).endsWith('→ stage 4'))).toBe(true);
    // Direction 1 carries micro-batches 60..119 (numbered after direction 0's).
    expect(sends.map((e) => e.args?.microBatch)).toEqual(Array.from({ length: 60 }, (_, j) => 60 + j));
  });

  it('falls back to the closed form, and refuses to trace, with fewer than 2·pp micro-batches', () => {
    const sc = shapedScenario({ pp: 8, m: 8, schedule: 'dualpipe' });
    expect(desRunsSchedule('dualpipe', 8, 8)).toBe(false);
    expect(desRunsSchedule('dualpipe', 8, 16)).toBe(true);
    expect(() => tracedStep(sc)).toThrow(/2·pp = 16 micro-batches/);
  });
});
