/**
 * Issue 14's target "Monte Carlo mean within 2 % of the closed form wherever the closed form's
 * assumptions hold", over a range of runs rather than one: random failure rates, detection and
 * restart times, intervals, pauses, run lengths and recovery strategies. Wherever
 * closedFormCaveats (run/closed-form-check.ts) finds none, the trials' mean goodput must be within 2 % of
 * Kokolis et al.'s ETTR; where it names a caveat (a run shorter than a few interruptions, or than
 * a few checkpoint intervals), the two may differ by more, and the check says why instead of
 * calling it a disagreement.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { runTrialRange } from '../../src/run/trial-runner.js';
import { TrialField as F, rowWidth } from '../../src/run/trial-row.js';
import type { ModelComponent, RunModel } from '../../src/run/run-model.js';
import { applyRecovery, type RecoveryContext } from '../../src/run/recovery.js';
import { FailureProfileSchema } from '../../src/schema/failures.js';
import { RECOVERY_STRATEGIES, type RecoveryStrategy, type RunInputs } from '../../src/run/inputs.js';
import type { CheckpointCosts, RestartCosts } from '../../src/run/checkpoint.js';
import { closedFormInputs, kokolisEttr } from '../../src/run/closed-form.js';
import { closedFormCaveats } from '../../src/run/closed-form-check.js';
import { mean } from '../../src/run/stats.js';

interface Case {
  /** Mean hours between node faults. */
  mtbiHours: number;
  /** Expected unexpected interruptions over the run's work. */
  interruptions: number;
  detectSeconds: number;
  relaunchSeconds: number;
  intervalSeconds: number;
  pauseSeconds: number;
  softwareShare: number;
  strategy: RecoveryStrategy;
}

/** Trials of one case: the mean goodput, the closed form and its caveats as `failures` computes them. */
function run(c: Case, trials = 300, seed = 11) {
  const rate = 1 / (c.mtbiHours * 3600);
  const load = 60;
  const restart: RestartCosts = { seconds: c.relaunchSeconds + load, relaunchSeconds: c.relaunchSeconds * 0.5, initSeconds: c.relaunchSeconds * 0.5, loadSeconds: load } as RestartCosts;
  const component = (over: Partial<ModelComponent>): ModelComponent => ({
    name: 'fault', category: 'Other', planned: false, ratePerSecond: 0, shape: 1, detectSeconds: c.detectSeconds, downtimeSeconds: 0, nodesOut: 0, repairSeconds: 4 * 3600, ...over,
  });
  const base: RunModel = {
    workSeconds: (c.interruptions / rate), horizonSeconds: Infinity, maxWallSeconds: 1e10, stepSeconds: 10,
    intervalSeconds: c.intervalSeconds, pauseSeconds: c.pauseSeconds, backgroundSeconds: 0, stopCheckpointSeconds: c.pauseSeconds,
    restartSeconds: restart.seconds, restoreSeconds: load, spareNodes: 10_000,
    components: [
      component({ name: 'node', ratePerSecond: rate * (1 - c.softwareShare), nodesOut: 1 }),
      component({ name: 'software', ratePerSecond: rate * c.softwareShare }),
    ],
  };
  // 512 GPUs on 64 nodes, dp 8 (eight nodes per replica); a 100 GB checkpoint.
  const ctx: RecoveryContext = {
    inputs: {
      gpus: 512, gpusPerNode: 8, nodes: 64, dp: 8,
      failures: FailureProfileSchema.parse({ name: 't', components: [], recovery: { hotSpareSwap: '20 s', elasticReconfigure: '30 s', inMemoryEverySteps: 1, inMemoryPause: 0, peerRestoreBandwidth: '10 GB/s' } }),
    } as RunInputs,
    ckpt: { bytes: 100e9, writeSeconds: c.pauseSeconds, pauseSeconds: c.pauseSeconds, backgroundSeconds: 0, loadSeconds: load } as CheckpointCosts,
    restart,
  };
  const model = applyRecovery(base, c.strategy, ctx);
  const rows = runTrialRange(model, seed, 0, trials);
  const w = rowWidth(model);
  const wall = Float64Array.from({ length: trials }, (_, t) => rows[t * w + F.wall]);
  const useful = Float64Array.from({ length: trials }, (_, t) => rows[t * w + F.useful]);
  const waited = Array.from({ length: trials }, (_, t) => rows[t * w + F.waitEpisodes]).filter((x) => x > 0).length / trials;
  const goodput = mean(useful.map((u, t) => u / wall[t]));
  const k = closedFormInputs(model);
  const caveats = closedFormCaveats(
    { closedForm: k, components: model.components, interval: { seconds: model.intervalSeconds } },
    { meanWallSeconds: mean(wall), meanUsefulSeconds: mean(useful), trialsWaited: waited },
  );
  return { goodput, ettr: kokolisEttr(k, model.intervalSeconds), caveats };
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  mtbiHours: fc.double({ min: 2, max: 100, noNaN: true }),
  interruptions: fc.double({ min: 5, max: 80, noNaN: true }),
  detectSeconds: fc.integer({ min: 0, max: 600 }),
  relaunchSeconds: fc.integer({ min: 30, max: 900 }),
  intervalSeconds: fc.integer({ min: 60, max: 180 }).map((m) => m * 10),
  pauseSeconds: fc.integer({ min: 0, max: 60 }),
  softwareShare: fc.double({ min: 0, max: 0.5, noNaN: true }),
  strategy: fc.constantFrom(...RECOVERY_STRATEGIES),
});

describe('Monte Carlo against the closed form wherever its assumptions hold (issue 14 target)', () => {
  it('is within 2 % of Kokolis et al.’s ETTR for every generated run without a caveat', () => {
    let held = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const r = run(c);
        if (r.caveats.length > 0) return;
        held++;
        expect(Math.abs(r.goodput / r.ettr - 1), JSON.stringify({ c, r })).toBeLessThan(0.02);
      }),
      { numRuns: 24, seed: 14 },
    );
    // The property is not vacuous: most generated runs are inside the closed form's domain.
    expect(held).toBeGreaterThanOrEqual(12);
  });

  it('names the caveat, instead of a disagreement, for a run much shorter than the time between interruptions', () => {
    // Like the Llama 3 programme's 40M-token annealing: minutes of work against hours between faults.
    const r = run({ mtbiHours: 3, interruptions: 0.02, detectSeconds: 60, relaunchSeconds: 210, intervalSeconds: 900, pauseSeconds: 30, softwareShare: 0.2, strategy: 'checkpoint-restart' }, 400);
    expect(r.caveats.join(' ')).toMatch(/times the mean time between interruptions .* most trials see no interruption/);
    expect(r.caveats.join(' ')).toMatch(/spans 0\.\d checkpoint intervals/);
    // And there the two do differ by more than 2 %: the caveat is needed, not decoration.
    expect(Math.abs(r.goodput / r.ettr - 1)).toBeGreaterThan(0.02);
  });

  it('names the caveat when faults cost more than a tenth of the time (second-order terms)', () => {
    const r = run({ mtbiHours: 1, interruptions: 50, detectSeconds: 600, relaunchSeconds: 900, intervalSeconds: 1800, pauseSeconds: 30, softwareShare: 0, strategy: 'checkpoint-restart' }, 100);
    expect(r.caveats.join(' ')).toMatch(/faults cost .* of the time to first order/);
  });
});
