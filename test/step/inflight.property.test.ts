/**
 * One in-flight count: the memory model (plan/memory.ts, through plan/pipeline.ts), the op order
 * of the schedule (step/schedules.ts) and the DES's observed peak agree on every stage for every
 * (schedule, pp, vpp, m), including pp not dividing m, where the interleaved schedule's
 * micro-batch group differs from pp (the divergence the architecture review found in §2.4).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { inFlightMicroBatches, estimateMemory } from '../../src/plan/memory.js';
import { planLayout } from '../../src/plan/layout.js';
import { stageSchedule } from '../../src/step/schedules.js';
import { desStep } from '../../src/step/des.js';
import { shapedScenario, zeroCommCosts, type SyntheticShape } from './helpers.js';

/** Peak micro-batches held by walking the op order: a forward takes a chunk's activations, its backward frees them. */
function walkedPeak(schedule: Parameters<typeof stageSchedule>[0], pp: number, vpp: number, m: number, stage: number): number {
  let held = 0;
  let peak = 0;
  for (const op of stageSchedule(schedule, pp, vpp, m, stage)) {
    if (op.phase === 'F') peak = Math.max(peak, ++held);
    else if (op.phase === 'B') held--;
  }
  return peak / vpp;
}

function check(shape: SyntheticShape): void {
  const sc = shapedScenario({ ...shape, layersPerStage: 2 * (shape.vpp ?? 1) });
  const { pipeline } = planLayout(sc.model, sc.plan);
  const des = desStep(sc, zeroCommCosts(sc));
  const label = `${shape.schedule} pp ${shape.pp} vpp ${shape.vpp ?? 1} m ${shape.m}`;
  expect(estimateMemory(sc.model, sc.plan, sc.gpu).inFlightMicroBatches, label).toBe(inFlightMicroBatches(sc.plan, 0));
  for (let s = 0; s < shape.pp; s++) {
    const memory = inFlightMicroBatches(sc.plan, s);
    expect(walkedPeak(pipeline.schedule, pipeline.pp, pipeline.vpp, pipeline.numMicroBatches, s), `${label} stage ${s}: schedule`).toBeCloseTo(memory, 12);
    expect(des.detail.stages[s].inFlightPeak, `${label} stage ${s}: DES peak`).toBeCloseTo(memory, 12);
    expect(des.detail.stages[s].inFlightFormula, `${label} stage ${s}: DES formula`).toBe(memory);
  }
}

describe('in-flight micro-batches: memory, schedule and DES agree', () => {
  it('on the review\'s cases where pp does not divide m (hand-worked: pp 8 vpp 4 m 12 holds all 12)', () => {
    // interleavedGroupSize(8, 12) = 12 (no group in 8..11 leaves remainder 0 or >= 8), so the
    // warm-up is min(48, 7·2 + 3·12) = 48 micro-chunks: every forward runs first, 48/4 = 12.
    expect(inFlightMicroBatches({ pp: 8, vpp: 4, schedule: 'interleaved-1f1b', numMicroBatches: 12 })).toBe(12);
    // pp 4 vpp 2 m 6: group 6, warm-up min(12, 3·2 + 6) = 12, so 6; pp 4 vpp 4 m 5: group 5, min(20, 6 + 15) = 20, so 5.
    expect(inFlightMicroBatches({ pp: 4, vpp: 2, schedule: 'interleaved-1f1b', numMicroBatches: 6 })).toBe(6);
    expect(inFlightMicroBatches({ pp: 4, vpp: 4, schedule: 'interleaved-1f1b', numMicroBatches: 5 })).toBe(5);
    for (const [pp, vpp, m] of [[8, 4, 12], [4, 2, 6], [4, 4, 5], [4, 2, 10]] as const) check({ schedule: 'interleaved-1f1b', pp, vpp, m });
  });

  it('for every schedule, pp, vpp and m (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('gpipe', '1f1b', 'interleaved-1f1b', 'zero-bubble'),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 24 }),
        (schedule, pp, vppIn, m) => {
          const vpp = schedule === 'interleaved-1f1b' && pp > 1 ? vppIn : 1;
          check({ schedule, pp, vpp, m });
        },
      ),
      { numRuns: 150, seed: 10 },
    );
  });
});
