import { describe, it, expect } from 'vitest';
import { TrialRunner, runTrialRange } from '../../src/run/trial-runner.js';
import { TrialField as F, rowWidth } from '../../src/run/trial-row.js';
import { gamma } from '../../src/run/arrivals.js';
import type { RunModel, ScriptedFault } from '../../src/run/run-model.js';
import { component, base } from './fixtures.js';
import { mean, stdev } from '../../src/run/stats.js';

/** Runs one scripted trial and returns its row as named fields. */
function scripted(model: RunModel, script: ScriptedFault[]) {
  const row = new Float64Array(rowWidth(model));
  new TrialRunner(model).run(1, 0, row, 0, script);
  const get = (f: number) => row[f];
  const r = {
    wall: get(F.wall),
    finished: get(F.finished),
    useful: get(F.useful),
    recompute: get(F.recompute),
    checkpoint: get(F.checkpoint),
    restart: get(F.restart),
    detect: get(F.detect),
    maintenance: get(F.maintenance),
    wait: get(F.wait),
    duringRunning: get(F.duringRunning),
    duringCheckpoint: get(F.duringCheckpoint),
    duringRecovery: get(F.duringRecovery),
    nodesReplaced: get(F.nodesReplaced),
    peakNodesOut: get(F.peakNodesOut),
    waitEpisodes: get(F.waitEpisodes),
    checkpoints: get(F.checkpoints),
    counts: Array.from(row.subarray(F.components)),
  };
  // Every second of wall time is booked exactly once.
  expect(r.useful + r.recompute + r.checkpoint + r.restart + r.detect + r.maintenance + r.wait).toBeCloseTo(r.wall, 6);
  return r;
}

describe('run engine: scripted edge cases', () => {
  it('with no failures takes exactly the work plus one pause per checkpoint (none after the last interval)', () => {
    const r = scripted(base(), []);
    expect(r.wall).toBe(10_000 + 9 * 50);
    expect(r).toMatchObject({ finished: 1, useful: 10_000, checkpoints: 9, checkpoint: 450, recompute: 0, restart: 0 });
  });

  it('a failure during a checkpoint write loses the whole interval: the save never committed', () => {
    // Save 1 is written during [1000, 1050]; the fault lands at 1020.
    const r = scripted(base(), [{ timeSeconds: 1020, component: 1 }]);
    expect(r).toMatchObject({ duringCheckpoint: 1, duringRunning: 0, recompute: 1000, detect: 100, restart: 300 });
    expect(r.checkpoint).toBeCloseTo(20 + 450, 9);
    expect(r.wall).toBeCloseTo(1020 + 100 + 300 + 10_450, 9);
  });

  it('a failure during a restart aborts it: detection and the full restart start over', () => {
    // Fault at 500 (detected 600, restart to 900); second fault at 700, 100 s into the restart.
    const r = scripted(base(), [
      { timeSeconds: 500, component: 1 },
      { timeSeconds: 700, component: 1 },
    ]);
    expect(r).toMatchObject({ duringRunning: 1, duringRecovery: 1, recompute: 500, detect: 200, restart: 400 });
    expect(r.wall).toBeCloseTo(700 + 100 + 300 + 10_450, 9);
    expect(r.counts).toEqual([0, 2, 0]);
  });

  it('two failures at once are both counted but cause one outage, and can exhaust the spare pool', () => {
    // Two GPU faults at 500 take 2 nodes out; 1 spare: the restart waits for a repair (back at 5,500).
    const r = scripted(base(), [
      { timeSeconds: 500, component: 0 },
      { timeSeconds: 500, component: 0 },
    ]);
    expect(r).toMatchObject({ duringRunning: 1, duringRecovery: 1, nodesReplaced: 2, peakNodesOut: 2, waitEpisodes: 1, recompute: 500, detect: 100, restart: 300 });
    expect(r.wait).toBeCloseTo(5500 - 600, 9);
    expect(r.wall).toBeCloseTo(5500 + 300 + 10_450, 9);
  });

  it('with an empty spare pool the job waits for the repair; with a spare it does not', () => {
    const none = scripted(base({ spareNodes: 0 }), [{ timeSeconds: 500, component: 0 }]);
    expect(none).toMatchObject({ waitEpisodes: 1, nodesReplaced: 1 });
    expect(none.wait).toBeCloseTo(5500 - 600, 9);
    const one = scripted(base({ spareNodes: 1 }), [{ timeSeconds: 500, component: 0 }]);
    expect(one).toMatchObject({ waitEpisodes: 0, wait: 0 });
    expect(one.wall).toBeCloseTo(500 + 100 + 300 + 10_450, 9);
  });

  it('a repair that returns during the outage ends the wait early', () => {
    const model = base({ spareNodes: 0, components: [component({ name: 'gpu', detectSeconds: 100, nodesOut: 1, repairSeconds: 50 })] });
    const r = scripted(model, [{ timeSeconds: 500, component: 0 }]);
    expect(r).toMatchObject({ waitEpisodes: 0, wait: 0, detect: 100 });
  });

  it('planned maintenance saves first (no lost work), then waits its downtime and restarts', () => {
    const r = scripted(base(), [{ timeSeconds: 500, component: 2 }]);
    expect(r).toMatchObject({ recompute: 0, maintenance: 600, restart: 300, checkpoints: 1 + 9 });
    expect(r.checkpoint).toBeCloseTo(50 + 9 * 50, 9);
    // 9,500 s of work left after the restart at 1,450: nine full cycles and 500 s.
    expect(r.wall).toBeCloseTo(1450 + 9 * 1050 + 500, 9);
  });

  it('a failure while the planned stop is saving loses the work since the last committed checkpoint', () => {
    const r = scripted(base(), [
      { timeSeconds: 1500, component: 2 },
      { timeSeconds: 1520, component: 1 },
    ]);
    // Save 1 committed at 1,050 (work 1,000); work 1,450 frozen at the stop; fault during its write.
    expect(r).toMatchObject({ duringCheckpoint: 1, recompute: 450 });
  });

  it('an asynchronous checkpoint commits only when its background write ends', () => {
    const model = base({ pauseSeconds: 5, backgroundSeconds: 200 });
    // Cycle 1,005 s: snapshot 1 ends at 1,005, its write at 1,205.
    expect(scripted(model, [{ timeSeconds: 1105, component: 1 }]).recompute).toBeCloseTo(1100, 9);
    expect(scripted(model, [{ timeSeconds: 1300, component: 1 }]).recompute).toBeCloseTo(295, 9);
  });

  it('a fault at the very moment the work completes does not count: the run is over', () => {
    const r = scripted(base(), [{ timeSeconds: 10_450, component: 1 }]);
    expect(r).toMatchObject({ finished: 1, wall: 10_450, counts: [0, 0, 0] });
  });

  it('in a fixed window, work in progress at the end is kept and the run is not finished', () => {
    const r = scripted(base({ workSeconds: Infinity, horizonSeconds: 5000 }), []);
    expect(r).toMatchObject({ finished: 0, wall: 5000, useful: 4800, checkpoint: 200, checkpoints: 4 });
  });

  it('gives up at maxWallSeconds and marks the trial unfinished', () => {
    const model = base({ maxWallSeconds: 3000, components: [component({ ratePerSecond: 1 / 200, detectSeconds: 10 })] });
    const row = runTrialRange(model, 3, 0, 1);
    expect(row[F.finished]).toBe(0);
    expect(row[F.wall]).toBe(3000);
  });
});

describe('run engine: agreement with analytic expectations (exponential failures)', () => {
  const z99 = 2.5758;

  it('interruption count and lost work match rate × exposure and the exact per-failure loss, within the 99% CI', () => {
    // Instant recovery, so every fault hits running work and segments always start on a checkpoint.
    const lambda = 1 / 500;
    const tau = 100;
    const C = 10;
    const L = tau + C;
    const T = 4000 / lambda;
    const model = base({ workSeconds: Infinity, horizonSeconds: T, intervalSeconds: tau, pauseSeconds: C, restartSeconds: 0, components: [component({ ratePerSecond: lambda })] });
    const n = 200;
    const rows = runTrialRange(model, 'analytic', 0, n);
    const w = rowWidth(model);
    const counts = Array.from({ length: n }, (_, t) => rows[t * w + F.components]);
    const lost = Array.from({ length: n }, (_, t) => rows[t * w + F.recompute]);
    expect(Math.abs(mean(counts) - lambda * T)).toBeLessThan((z99 * stdev(counts)) / Math.sqrt(n));
    // E[loss | fault] = E[f(X mod L)], X ~ Exp(λ), f(u) = u while working, τ while saving.
    const work = (1 - Math.exp(-lambda * tau) * (1 + lambda * tau)) / lambda;
    const saving = tau * (Math.exp(-lambda * tau) - Math.exp(-lambda * L));
    const perFault = (work + saving) / (1 - Math.exp(-lambda * L));
    expect(Math.abs(mean(lost) - lambda * T * perFault)).toBeLessThan((z99 * stdev(lost)) / Math.sqrt(n));
  });

  it('the mean wall time of a whole run matches Daly’s exact expectation, within the 99% CI', () => {
    // Daly (2006): a segment of length x, with every failure costing a restart R that can itself
    // fail, takes M·e^{R/M}·(e^{x/M} − 1) on average. Here R = detection + restart.
    const M = 5000;
    const tau = 1000;
    const C = 20;
    const D = 60;
    const R = 200;
    const W = 100_000;
    const model = base({ workSeconds: W, intervalSeconds: tau, pauseSeconds: C, restartSeconds: R, components: [component({ ratePerSecond: 1 / M, detectSeconds: D })] });
    const n = 2000;
    const rows = runTrialRange(model, 'daly', 0, n);
    const w = rowWidth(model);
    const wall = Array.from({ length: n }, (_, t) => rows[t * w + F.wall]);
    const seg = (x: number) => M * Math.exp((D + R) / M) * (Math.exp(x / M) - 1);
    const k = Math.ceil(W / tau) - 1;
    const expected = k * seg(tau + C) + seg(W - k * tau);
    expect(Math.abs(mean(wall) - expected)).toBeLessThan((z99 * stdev(wall)) / Math.sqrt(n));
  });

  it('the overhead matches the first-order Young/Daly waste C/τ + (τ/2 + R)/M when failures are rare', () => {
    const M = 200_000;
    const tau = 2000;
    const C = 10;
    const R = 300;
    const W = 2e6;
    const model = base({ workSeconds: W, intervalSeconds: tau, pauseSeconds: C, restartSeconds: R, components: [component({ ratePerSecond: 1 / M })] });
    const rows = runTrialRange(model, 'young', 0, 2000);
    const w = rowWidth(model);
    const wall = mean(Array.from({ length: 2000 }, (_, t) => rows[t * w + F.wall]));
    const firstOrder = C / tau + (tau / 2 + R) / M;
    expect(wall / W - 1).toBeGreaterThan(0.95 * firstOrder);
    expect(wall / W - 1).toBeLessThan(1.05 * firstOrder);
  });

  it('Weibull components keep their mean rate (renewal count ≈ T / mean)', () => {
    const rate = 1 / 1000;
    const T = 1e6;
    for (const shape of [0.7, 2]) {
      const model = base({ workSeconds: Infinity, horizonSeconds: T, restartSeconds: 0, components: [component({ ratePerSecond: rate, shape })] });
      const rows = runTrialRange(model, 'weibull', 0, 100);
      const w = rowWidth(model);
      const m = mean(Array.from({ length: 100 }, (_, t) => rows[t * w + F.components]));
      expect(m / (rate * T)).toBeGreaterThan(0.98);
      expect(m / (rate * T)).toBeLessThan(1.02);
    }
  });

  it('gamma is accurate', () => {
    expect(gamma(5)).toBeCloseTo(24, 10);
    expect(gamma(0.5)).toBeCloseTo(Math.sqrt(Math.PI), 12);
    expect(gamma(1.5)).toBeCloseTo(Math.sqrt(Math.PI) / 2, 12);
  });

  it('a trial replays alone: its row does not depend on the trials run before it', () => {
    const model = base({ components: [component({ ratePerSecond: 1 / 2000, detectSeconds: 30, nodesOut: 1, repairSeconds: 4000 })] });
    const all = runTrialRange(model, 9, 0, 8);
    const w = rowWidth(model);
    expect(Array.from(runTrialRange(model, 9, 5, 6))).toEqual(Array.from(all.subarray(5 * w, 6 * w)));
  });
});
