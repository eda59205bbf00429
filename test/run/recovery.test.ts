/**
 * Recovery strategies and what a buyer pays: each strategy against a hand-worked scripted fault,
 * the Monte Carlo against the closed form under each strategy, and the cost and badput summary.
 */
import { describe, it, expect } from 'vitest';
import { TrialRunner, runTrialRange } from '../../src/run/trial-runner.js';
import { TrialField as F, rowWidth } from '../../src/run/trial-row.js';
import type { ModelComponent, RunModel, ScriptedFault } from '../../src/run/run-model.js';
import { applyRecovery, replicasLost, peerRestoreRate, PEER_RESTORE_FALLBACK, type RecoveryContext } from '../../src/run/recovery.js';
import { FailureProfileSchema } from '../../src/schema/failures.js';
import { RECOVERY_STRATEGIES, modelComponents, type RecoveryStrategy, type RunInputs } from '../../src/run/inputs.js';
import type { CheckpointCosts, RestartCosts } from '../../src/run/checkpoint.js';
import { closedFormInputs, kokolisEttr } from '../../src/run/closed-form.js';
import { simulateTrials, compareRecovery } from '../../src/run/monte-carlo.js';
import { summarize } from '../../src/run/summary.js';
import { mean } from '../../src/run/stats.js';
import { renderFailures } from '../../src/report/failures.js';

const component = (over: Partial<ModelComponent>): ModelComponent => ({
  name: 'fault', category: 'Other', planned: false, ratePerSecond: 0, shape: 1, detectSeconds: 0, downtimeSeconds: 0, nodesOut: 0, repairSeconds: 0, ...over,
});

/**
 * 10,000 s of work in 10 s steps, a blocking save every 1,000 s of work taking 50 s, restarts of
 * 300 s (relaunch 100 + init 100 + load 100). Components: a GPU fault (one node, detect 100 s,
 * repair 5,000 s), a rack loss (two nodes at once), and software (no node).
 */
const base = (over: Partial<RunModel> = {}): RunModel => ({
  workSeconds: 10_000, horizonSeconds: Infinity, maxWallSeconds: 1e9, stepSeconds: 10, intervalSeconds: 1000, pauseSeconds: 50, backgroundSeconds: 0,
  stopCheckpointSeconds: 50, restartSeconds: 300, restoreSeconds: 100, spareNodes: 2,
  components: [
    component({ name: 'gpu', detectSeconds: 100, nodesOut: 1, repairSeconds: 5000 }),
    component({ name: 'rack', detectSeconds: 100, nodesOut: 2, repairSeconds: 5000 }),
    component({ name: 'software', detectSeconds: 100 }),
  ],
  ...over,
});

/** 64 GPUs on 8 nodes, dp 4 (two nodes per replica); a 160 GB checkpoint (20 s from a peer at 1 GB/s per node). */
const ctx = (): RecoveryContext => ({
  inputs: {
    gpus: 64, gpusPerNode: 8, nodes: 8, dp: 4,
    failures: FailureProfileSchema.parse({ name: 't', components: [], recovery: { hotSpareSwap: '60 s', elasticReconfigure: '30 s', inMemoryEverySteps: 1, inMemoryPause: 0, peerRestoreBandwidth: '1 GB/s' } }),
  } as RunInputs,
  ckpt: { bytes: 160e9, writeSeconds: 50, pauseSeconds: 50, backgroundSeconds: 0, loadSeconds: 100 } as CheckpointCosts,
  restart: { seconds: 300, relaunchSeconds: 100, initSeconds: 100, loadSeconds: 100 } as RestartCosts,
});

function scripted(model: RunModel, script: ScriptedFault[]) {
  const row = new Float64Array(rowWidth(model));
  new TrialRunner(model).run(1, 0, row, 0, script);
  const r = {
    wall: row[F.wall], useful: row[F.useful], recompute: row[F.recompute], checkpoint: row[F.checkpoint], restart: row[F.restart], restore: row[F.restore],
    detect: row[F.detect], wait: row[F.wait], degraded: row[F.degraded], checkpoints: row[F.checkpoints], nodesReplaced: row[F.nodesReplaced], spareNodeSeconds: row[F.spareNodeSeconds],
  };
  // Every second of wall time is booked exactly once.
  expect(r.useful + r.recompute + r.checkpoint + r.restart + r.detect + r.wait + r.degraded + row[F.maintenance]).toBeCloseTo(r.wall, 6);
  return r;
}

const at = (strategy: RecoveryStrategy, over: Partial<RunModel> = {}) => applyRecovery(base(over), strategy, ctx());

// One GPU fault at t = 2,525 s. Cycles of 1,050 s (1,000 work + 50 save): two saves committed
// (work 2,000), 425 s into the third interval, so work done is 2,425 s. No fault: 10,000 + 9 × 50 = 10,450 s.
const gpuFault: ScriptedFault[] = [{ timeSeconds: 2525, component: 0 }];

describe('recovery strategies on a scripted fault (hand-worked)', () => {
  it('checkpoint-restart: 425 s redone, detection 100 s, full restart 300 s (100 of it the restore)', () => {
    const r = scripted(at('checkpoint-restart'), gpuFault);
    expect(r).toMatchObject({ recompute: 425, detect: 100, restart: 300, restore: 100, degraded: 0, checkpoints: 9, nodesReplaced: 1, spareNodeSeconds: 5000 });
    expect(r.wall).toBeCloseTo(10_450 + 425 + 100 + 300, 9);
  });

  it('hot-spare: the restart is the 60 s swap plus the 100 s load, no relaunch or init', () => {
    const r = scripted(at('hot-spare'), gpuFault);
    expect(r).toMatchObject({ recompute: 425, restart: 160, restore: 100, nodesReplaced: 1 });
    expect(r.wall).toBeCloseTo(10_450 + 425 + 100 + 160, 9);
    // Software faults take no node: they still relaunch in full.
    expect(scripted(at('hot-spare'), [{ timeSeconds: 2525, component: 2 }]).restart).toBe(300);
  });

  it('in-memory: a save every step with no pause, only 5 s redone, restore 20 s from a peer (restart 220 s)', () => {
    const r = scripted(at('in-memory'), gpuFault);
    // Saves every 10 s of work: 252 committed by 2,525 (work 2,520), then 747 more (none after the last step).
    expect(r).toMatchObject({ checkpoint: 0, checkpoints: 252 + 747 });
    expect(r.recompute).toBeCloseTo(5, 9);
    expect(r.restart).toBeCloseTo(220, 9);
    expect(r.restore).toBeCloseTo(20, 9);
    expect(r.wall).toBeCloseTo(10_000 + 5 + 100 + 220, 9);
  });

  it('in-memory: a rack loss takes the peer copy too: back to the last persistent checkpoint (2,000 s) and a storage load', () => {
    const r = scripted(at('in-memory'), [{ timeSeconds: 2525, component: 1 }]);
    expect(r.recompute).toBeCloseTo(525, 9);
    expect(r).toMatchObject({ restart: 300, restore: 100, nodesReplaced: 2 });
    expect(r.wall).toBeCloseTo(10_000 + 525 + 100 + 300, 9);
  });

  it('elastic: drop one of 4 replicas, lose only the step in flight (5 s), regroup 30 s, run at 3/4 for the 5,000 s repair (1,250 s equivalent), no spare', () => {
    expect(replicasLost(1, ctx().inputs)).toBe(1);
    expect(replicasLost(2, ctx().inputs)).toBe(1);
    expect(replicasLost(3, ctx().inputs)).toBe(2);
    const r = scripted(at('elastic'), gpuFault);
    expect(r.recompute).toBeCloseTo(5, 9);
    expect(r).toMatchObject({ restart: 30, restore: 0, detect: 100, degraded: 1250, nodesReplaced: 0, spareNodeSeconds: 0, checkpoints: 9 });
    expect(r.wall).toBeCloseTo(10_450 + 5 + 100 + 30 + 1250, 9);
  });

  it('elastic: a later software crash rolls back to the last checkpoint, not to where the shrunk run resumed', () => {
    // GPU fault at 2,525 (resume at 3,905 from 2,420 of work); software at 4,305: 400 s of work since, last save at 2,000.
    const r = scripted(at('elastic'), [...gpuFault, { timeSeconds: 4305, component: 2 }]);
    expect(r.recompute).toBeCloseTo(5 + 820, 9);
    expect(r.wall).toBeCloseTo(10_450 + 5 + 100 + 30 + 1250 + 820 + 100 + 300, 9);
  });

  it('elastic: a software crash while running shrunk loses the work past the last checkpoint and still owes the rest of the shrunk running', () => {
    // Shrunk from 2,655 to 3,905; the crash at 3,000 has served 345 s of the 1,250: 905 s still owed after a full 300 s restart.
    const r = scripted(at('elastic'), [...gpuFault, { timeSeconds: 3000, component: 2 }]);
    expect(r.recompute).toBeCloseTo(5 + 420, 9);
    expect(r).toMatchObject({ detect: 200, restart: 330, degraded: 1250 });
    expect(r.wall).toBeCloseTo(10_450 + 425 + 200 + 330 + 1250, 9);
  });

  it('elastic with a single replica is checkpoint-restart', () => {
    const one = { ...ctx(), inputs: { ...ctx().inputs, dp: 1 } };
    expect(applyRecovery(base(), 'elastic', one)).toEqual(base());
  });
});

describe('peer restore rate (in-memory)', () => {
  const profile = (recovery: object, checkpoint: object) => FailureProfileSchema.parse({ name: 'p', components: [], recovery, checkpoint });
  it('is derived from the hardware unless the profile measured it', () => {
    // Grand Teton: 8 NICs x 400 Gb/s = 400 GB/s; 8 GPUs x 25 GB/s host-to-device = 200 GB/s: the smaller.
    const gt = { gpusPerNode: 8, nodeNetworkBytesPerSecond: 8 * 50e9 };
    expect(peerRestoreRate({ ...gt, failures: profile({}, { asyncSnapshotBandwidth: '25 GB/s' }) })).toBe(200e9);
    // Two 200 Gb/s NICs are the bound: 50 GB/s.
    expect(peerRestoreRate({ gpusPerNode: 8, nodeNetworkBytesPerSecond: 2 * 25e9, failures: profile({}, { asyncSnapshotBandwidth: '25 GB/s' }) })).toBe(50e9);
    // No host-to-device rate: the NICs alone.
    expect(peerRestoreRate({ ...gt, failures: profile({}, {}) })).toBe(400e9);
    // A measured rate wins.
    expect(peerRestoreRate({ ...gt, failures: profile({ peerRestoreBandwidth: '12 GB/s' }, {}) })).toBe(12e9);
    // Nothing known: the stated guess, one 400 Gb/s NIC.
    expect(peerRestoreRate({ gpusPerNode: 8, failures: profile({}, {}) })).toBe(PEER_RESTORE_FALLBACK);
    expect(PEER_RESTORE_FALLBACK).toBe(50e9);
  });
});

describe('Monte Carlo against the closed form under every strategy', () => {
  // One node fault every ~28 h of wall time on a 100-day run, spares never short: the closed form's assumptions hold.
  const mc = (strategy: RecoveryStrategy) => {
    const model = applyRecovery(
      base({ workSeconds: 100 * 86400, intervalSeconds: 3600, pauseSeconds: 30, spareNodes: 1000, components: [component({ name: 'gpu', ratePerSecond: 1 / 100_000, detectSeconds: 120, nodesOut: 1, repairSeconds: 20_000 })] }),
      strategy,
      ctx(),
    );
    const trials = 400;
    const rows = runTrialRange(model, 7, 0, trials);
    const w = rowWidth(model);
    const goodput = Array.from({ length: trials }, (_, t) => rows[t * w + F.useful] / rows[t * w + F.wall]);
    return { mean: mean(Float64Array.from(goodput)), ettr: kokolisEttr(closedFormInputs(model), model.intervalSeconds) };
  };
  for (const s of RECOVERY_STRATEGIES) {
    it(`${s}: mean goodput within 2 % of Kokolis et al.'s ETTR`, () => {
      const r = mc(s);
      expect(Math.abs(r.mean / r.ettr - 1)).toBeLessThan(0.02);
    });
  }
});

describe('what a buyer pays', () => {
  const profile = FailureProfileSchema.parse({
    name: 'p',
    components: [
      { name: 'GPU', rate: 2e-5, per: 'gpu-hour', scope: 'gpu', detect: '1 min', replaceNode: true },
      { name: 'Rack', rate: 2e-6, per: 'node-hour', scope: 'rack', nodesPerDomain: 4, detect: '5 min', replaceNode: true, repair: '6 h' },
    ],
    recovery: { relaunch: '60 s', init: '120 s', repair: '1 day' },
  });
  const inputs = (over: Partial<RunInputs> = {}): RunInputs => ({
    stepSeconds: 2, tokensPerStep: 4_194_304, totalTokens: 5e11, gpus: 1024, nodes: 128, gpusPerNode: 8, spareNodes: 8, nodesPerSwitch: 2,
    checkpointBytes: 1e12, checkpointReadBytes: 2e12, checkpointAsync: false, storage: { writeBytesPerSecond: 100e9 }, failures: profile, dp: 16, ...over,
  });

  it('a rack-scope fault takes nodesPerDomain nodes; the schema wants the count', () => {
    expect(modelComponents(inputs())[1].nodesOut).toBe(4);
    expect(FailureProfileSchema.safeParse({ name: 'x', components: [{ name: 'r', rate: 1, per: 'job-hour', scope: 'power' }] }).success).toBe(false);
  });

  it('expected cost is job GPUs over the wall time plus held spares; badput buckets add up to the lost GPU-hours', () => {
    const r = simulateTrials(inputs({ pricePerGpuHour: 2 }), { trials: 200, seed: 3 });
    const s = summarize(r.context, r.rows);
    const idealHours = (Math.ceil(5e11 / 4_194_304) * 2) / 3600;
    expect(s.cost.ideal!.gpuHours).toBeCloseTo(1024 * idealHours, 6);
    expect(s.cost.ideal!.costUsd).toBeCloseTo(2 * 1024 * idealHours, 6);
    expect(s.cost.expected.jobGpuHours).toBeCloseTo((1024 * s.days.mean * 24), 6);
    expect(s.cost.expected.spareGpuHours).toBeCloseTo(64 * s.days.mean * 24, 6);
    expect(s.cost.expected.costUsd!.mean).toBeCloseTo(2 * s.cost.expected.gpuHours.mean, 6);
    expect(s.cost.expected.gpuHours.p90).toBeGreaterThanOrEqual(s.cost.expected.gpuHours.mean * 0.99);
    const buckets = Object.values(s.badput).reduce((a, b) => a + b.mean, 0);
    expect(buckets).toBeCloseTo(s.lostGpuHours.mean, 3);
    expect(s.badput.checkpointRestore.mean).toBeGreaterThan(0);
  });

  it('rented spares cost less than held ones; no price gives null costs and "price not set", never $0', () => {
    const held = summarize(...(({ context, rows }) => [context, rows] as const)(simulateTrials(inputs(), { trials: 100, seed: 3 })));
    const r = simulateTrials(inputs({ spareBilling: 'rented' }), { trials: 100, seed: 3 });
    const rented = summarize(r.context, r.rows);
    expect(rented.cost.expected.spareGpuHours).toBeGreaterThan(0);
    expect(rented.cost.expected.spareGpuHours).toBeLessThan(held.cost.expected.spareGpuHours);
    expect(rented.cost.expected.costUsd).toBeNull();
    expect(rented.cost.ideal!.costUsd).toBeNull();
    const text = renderFailures(rented, 't', 1024);
    expect(text).toContain('price not set');
    expect(text).not.toContain('$0');
  });

  it('--compare-recovery: every strategy on the same trials, the chosen one equal to the main run', () => {
    const options = { trials: 100, seed: 5 };
    const inp = inputs({ pricePerGpuHour: 2, recovery: 'hot-spare' });
    const r = simulateTrials(inp, options);
    const s = summarize(r.context, r.rows);
    const list = compareRecovery(inp, options, r);
    expect(list.map((x) => x.strategy)).toEqual([...RECOVERY_STRATEGIES]);
    const chosen = list.find((x) => x.chosen)!;
    expect(chosen.strategy).toBe('hot-spare');
    expect(chosen.goodput.mean).toBe(s.goodput.mean);
    expect(chosen.gpuHours).toEqual(s.cost.expected.gpuHours);
    const restart = list.find((x) => x.strategy === 'checkpoint-restart')!;
    expect(chosen.badput.startUp.mean).toBeLessThan(restart.badput.startUp.mean);
    expect(list.find((x) => x.strategy === 'elastic')!.badput.runningShrunk.mean).toBeGreaterThan(0);
    expect(compareRecovery(inp, options, r)).toEqual(list);
  });
});

describe('failures CLI: added keys only, and the comparison', () => {
  it('keeps every key of the summary and adds badput and cost; --compare-recovery adds recoveryStrategies, byte-identical at any worker count', async () => {
    const { cli } = await import('../cli/in-process.js');
    const args = ['failures', 'scenarios/llama3-405b.yaml', '--trials', '20', '--json'];
    const plain = JSON.parse((await cli(args)).stdout);
    expect(Object.keys(plain)).toEqual([
      'trials', 'seed', 'mode', 'horizonDays', 'finishedTrials', 'days', 'interruptions', 'goodput', 'lostGpuHours', 'spares', 'checkpoint', 'restart', 'tokens', 'histogram', 'closedForm', 'badput', 'cost', 'notes',
    ]);
    expect(plain.cost.ideal.costUsd).toBeGreaterThan(0);
    const one = await cli([...args, '--compare-recovery']);
    const two = await cli([...args, '--compare-recovery', '--workers', '2']);
    expect(one.status).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    const j = JSON.parse(one.stdout);
    expect(j.recoveryStrategies.map((r: { strategy: string }) => r.strategy)).toEqual([...RECOVERY_STRATEGIES]);
    expect({ ...j, recoveryStrategies: undefined }).toEqual({ ...plain, recoveryStrategies: undefined });
    const text = (await cli(['failures', 'scenarios/llama3-405b.yaml', '--trials', '20', '--compare-recovery'])).stdout;
    expect(text).toContain('Recovery strategies (same trials');
    expect(text).toContain('What a buyer pays  expected');
  });
});
