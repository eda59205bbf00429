/**
 * Issue 14: the failure Monte Carlo runs a programme end to end, its stages in order on one
 * failure timeline (src/run/programme-engine.ts).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { RunInputs } from '../../src/run/inputs.js';
import type { RunModel } from '../../src/run/run-model.js';
import { component, base, inputs } from './fixtures.js';
import { TrialField as F, rowWidth } from '../../src/run/trial-row.js';
import { simulateRun } from '../../src/run/monte-carlo.js';
import { runProgrammeRange, programmeRowWidth, stageOffsets, type ProgrammeModel } from '../../src/run/programme-engine.js';
import { planProgramme, simulateProgramme, simulateProgrammeParallel, type ProgrammeStageRun } from '../../src/run/programme-mc.js';
import { summarizeProgramme } from '../../src/run/programme-summary.js';
import { RunTooLarge, MAX_EXPECTED_EVENTS } from '../../src/run/plan-run.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/io/load.js';
import { cli } from '../cli/in-process.js';

/** engine.test.ts's model with one component: a GPU fault (one node, detect 100 s, repair 5,000 s). */
const model = (over: Partial<RunModel>): RunModel => base({ components: [component({ name: 'gpu', detectSeconds: 100, nodesOut: 1, repairSeconds: 5000 })], ...over });

/** failures.test.ts's job at `gpus` GPUs and `tokens` tokens, $2 per GPU-hour. */
const jobInputs = (gpus: number, tokens: number): RunInputs => inputs({ gpus, nodes: gpus / 8, totalTokens: tokens, pricePerGpuHour: 2 });

const stage = (index: number, gpus: number, tokens: number, layoutKey = `train/${gpus}`): ProgrammeStageRun => ({
  index,
  name: `s${index}`,
  kind: 'pretrain',
  inputs: jobInputs(gpus, tokens),
  gpus,
  gpusPerNode: 8,
  spareNodes: 4,
  pricePerGpuHour: 2,
  spareBilling: 'held',
  layoutKey,
});

describe('programme Monte Carlo', () => {
  it('a programme of one stage is the scenario\'s Monte Carlo, number for number', () => {
    const plan = planProgramme([stage(0, 1024, 2e11)], { trials: 200, seed: 5 });
    const s = summarizeProgramme(plan, simulateProgramme(plan));
    const today = simulateRun(jobInputs(1024, 2e11), { trials: 200, seed: 5 });
    expect(s.stages[0].failures).toEqual(today);
    expect(s.days.mean).toBe(today.days.mean);
    expect(s.days.p90).toBe(today.days.p90);
    expect(s.cost.expected).toEqual(today.cost.expected);
    expect(s.cost.ideal).toEqual(today.cost.ideal);
  });

  it('two stages on one timeline, hand-worked: a repair started in the first holds up the second\'s relaunch', () => {
    // Stage A: 10,000 s of work, 1,000 s intervals, 50 s saves; a GPU fault at 10,100 s: 9 saves
    // committed (9,000 s), 650 s lost, 100 s detection, 300 s restart with the node's spare, then
    // the last 1,000 s: done at 11,500 s. Its node is back at 15,100 s: 3,600 s into stage B.
    // Stage B (a new layout, no spare nodes): the 50 s save of A's state, then its 200 s restart
    // waits for that node (3,550 s), then 2,000 s of work and one 50 s save: 5,850 s.
    const p: ProgrammeModel = {
      stages: [
        { name: 'A', model: model({}), relaunch: false, carryArrivals: false, script: [{ timeSeconds: 10_100, component: 0 }] },
        { name: 'B', model: model({ workSeconds: 2000, restartSeconds: 200, spareNodes: 0 }), relaunch: true, carryArrivals: false, script: [] },
      ],
    };
    const row = runProgrammeRange(p, 1, 0, 1);
    const [a, b] = stageOffsets(p);
    const get = (at: number, fields: number[]) => fields.map((f) => row[at + f]);
    expect(get(a, [F.wall, F.useful, F.recompute, F.detect, F.restart, F.checkpoint, F.checkpoints, F.finished])).toEqual([11_500, 10_000, 650, 100, 300, 450, 9, 1]);
    expect(get(b, [F.wall, F.useful, F.wait, F.restart, F.checkpoint, F.checkpoints, F.waitEpisodes, F.peakNodesOut, F.finished])).toEqual([5850, 2000, 3550, 200, 100, 2, 1, 1, 1]);
    expect(row.length).toBe(programmeRowWidth(p));
    expect(programmeRowWidth(p)).toBe(2 * rowWidth(p.stages[0].model!));
  });

  it('the same stage twice carries the pending faults over; a resize relaunches and draws them afresh', () => {
    const plan = planProgramme([stage(0, 1024, 1e11), stage(1, 1024, 1e11), stage(2, 512, 1e11)], { trials: 20, seed: 2 });
    expect(plan.model.stages.map((s) => [s.relaunch, s.carryArrivals])).toEqual([[false, false], [false, true], [true, false]]);
  });

  it('every trial takes at least the sum of the ideal stage times, and GPU-hours at least the ideal ones (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ gpus: fc.constantFrom(256, 512, 1024), tokens: fc.integer({ min: 1, max: 40 }) }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 1000 }), (shape, seed) => {
        const plan = planProgramme(shape.map((s, i) => stage(i, s.gpus, s.tokens * 1e10)), { trials: 20, seed });
        const rows = simulateProgramme(plan);
        const width = programmeRowWidth(plan.model);
        const ideal = plan.model.stages.reduce((x, s) => x + s.model!.workSeconds, 0);
        for (let t = 0; t < plan.trials; t++) {
          let wall = 0;
          for (const at of stageOffsets(plan.model)) wall += rows[t * width + at + F.wall];
          expect(wall).toBeGreaterThanOrEqual(ideal * (1 - 1e-12));
        }
        const s = summarizeProgramme(plan, rows);
        expect(s.days.p5).toBeGreaterThanOrEqual(s.days.ideal * (1 - 1e-12));
        expect(s.cost.expected.gpuHours.mean).toBeGreaterThanOrEqual(s.cost.ideal.gpuHours * (1 - 1e-12));
      }),
      { numRuns: 15, seed: 14 },
    );
  });

  it('refuses up front a Monte Carlo whose events over all stages exceed the bound, though each stage alone fits', () => {
    // Each stage alone stays under MAX_EXPECTED_EVENTS at these trials; the sum does not.
    const one = planProgramme([stage(0, 1024, 2e12)], { trials: 1 });
    const trials = Math.floor((0.6 * MAX_EXPECTED_EVENTS) / one.expectedEvents);
    expect(() => planProgramme([stage(0, 1024, 2e12)], { trials })).not.toThrow();
    expect(() => planProgramme([stage(0, 1024, 2e12), stage(1, 1024, 2e12)], { trials })).toThrow(RunTooLarge);
  });

  it('trial rows do not depend on how trials are split (worker threads run ranges)', async () => {
    const plan = planProgramme([stage(0, 1024, 2e11), stage(1, 512, 1e11)], { trials: 12, seed: 'split' });
    const all = simulateProgramme(plan);
    const w = programmeRowWidth(plan.model);
    expect(Array.from(runProgrammeRange(plan.model, plan.seed, 7, 9))).toEqual(Array.from(all.subarray(7 * w, 9 * w)));
    expect(Array.from(await simulateProgrammeParallel(plan, 1))).toEqual(Array.from(all));
  });
});

/** The tiny scenario as a two-stage programme with a failure profile: 8 GPUs, then 16 (a relaunch). */
function tinyProgramme(): string {
  const tiny = readFileSync(join(packageRoot, 'scenarios', 'tiny.yaml'), 'utf8');
  const head = tiny.slice(0, tiny.indexOf('training:')).replace('  pue: 1.2', '  failures: llama3-h100\n  storage: { writeBandwidth: "10 GB/s" }\n  pue: 1.2').replace('spareNodes: 0 ', 'spareNodes: 1 ');
  const file = join(mkdtempSync(join(tmpdir(), 'programme-')), 'p.yaml');
  writeFileSync(file, `${head}training:\n  totalTokens: "100M"\n  checkpointInterval: "10 min"\nstages:\n  - name: a\n    tokens: "20B"\n  - name: b\n    gpus: 16\n    tokens: "10B"\n`);
  return file;
}

describe('programme on the command line', () => {
  const file = tinyProgramme();

  it('evaluate --json: total with the expected figures of the end-to-end Monte Carlo, each stage its own failures', async () => {
    const r = await cli(['evaluate', file, '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j.total)).toEqual(['idealDays', 'expectedDays', 'p90Days', 'gpuHours', 'expectedGpuHours', 'p90GpuHours', 'costUsd', 'expectedCostUsd', 'p90CostUsd', 'energyMWh', 'note']);
    expect(j.total.expectedDays).toBeGreaterThanOrEqual(j.total.idealDays);
    expect(j.total.expectedGpuHours).toBeGreaterThanOrEqual(j.total.gpuHours);
    expect(j.stages.map((s: { failures?: unknown }) => s.failures !== undefined)).toEqual([true, true]);
  });

  it('failures: the whole programme; options of a single run are refused naming the flag', async () => {
    const r = await cli(['failures', file, '--json', '--trials', '40']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.stages.map((s: { relaunch: boolean }) => s.relaunch)).toEqual([false, true]);
    expect(j.days.mean).toBeGreaterThanOrEqual(j.days.ideal);
    // Each stage's expected GPU-hours and cost (job and spares over its wall time) add up to the programme's.
    const sum = (f: (st: { expected: { gpuHours: { mean: number }; costUsd: { mean: number } } }) => number) => j.stages.reduce((a: number, st: never) => a + f(st), 0);
    expect(j.finishedTrials).toBe(40);
    // Stage b opens with a relaunch, which the closed form does not count: a caveat, not a disagreement.
    expect(j.stages[1].failures.closedForm.caveats.join(' ')).toMatch(/it begins with a relaunch \(a blocking save and a restart, [\d.]+ s, [\d.]+% of its wall time\)/);
    expect(j.stages[0].failures.closedForm.caveats.join(' ')).not.toMatch(/relaunch/);
    expect(sum((st) => st.expected.gpuHours.mean) / j.cost.expected.gpuHours.mean).toBeCloseTo(1, 12);
    expect(sum((st) => st.expected.costUsd.mean) / j.cost.expected.costUsd.mean).toBeCloseTo(1, 12);
    const text = await cli(['failures', file, '--trials', '20']);
    expect(text.status).toBe(0);
    // evaluate prints each stage's Monte Carlo notes, as a single run's evaluate does.
    expect((await cli(['evaluate', file])).stdout).toMatch(/^Note {5}b: failures: the closed form \(Kokolis et al\. 2024\) expects goodput .*; it does not apply here: /m);
    for (const part of ['programme of 2 stages', 'relaunch', 'exp. GPU-h', 'exp. cost', 'Days        ideal', 'What a buyer pays', 'Badput by cause']) expect(text.stdout).toContain(part);
    const bad = await cli(['failures', file, '--horizon', '1d']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--horizon');
  });

  it('--gpus says what moved, in evaluate and failures alike, and which stages keep the GPU count they set', async () => {
    const resized = /^Note +--gpus 32 \(the file has 8\): dp re-derived; global batch scaled ×4 to [\d,]+ sequences \(batch per DP replica kept\); spare nodes 1 → 4 \(scaled, rounded up\)$/m;
    const stages = /^Note +--gpus on a programme: stages inherit the scenario's new GPU count, global batch and spare nodes unless they set their own, which are kept as written: b \(16\) keeps the GPU count it sets$/m;
    for (const command of ['evaluate', 'failures']) {
      const r = await cli([command, file, '--gpus', '32', ...(command === 'failures' ? ['--trials', '20'] : [])]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(resized);
      expect(r.stdout).toMatch(stages);
    }
    // A single run's failures report carries the scenario's --gpus note too (it was only in evaluate).
    const single = await cli(['failures', join(packageRoot, 'scenarios', 'llama3-405b.yaml'), '--gpus', '8192', '--trials', '10']);
    expect(single.stdout).toMatch(/^Note  --gpus 8,192 \(the file has 16,384\): dp re-derived; global batch scaled ×0\.5 to 1,024 sequences/m);
  });

  it('the same rows on 1 and 2 worker threads (compiled dist/, as failures.test.ts)', async () => {
    const built = (await import('../../dist/run/programme-mc.js' as string)) as typeof import('../../src/run/programme-mc.js');
    const plan = built.planProgramme([stage(0, 1024, 2e11), stage(1, 512, 1e11)], { trials: 300, seed: 'workers' });
    const one = await built.simulateProgrammeParallel(plan, 1);
    const two = await built.simulateProgrammeParallel(plan, 2);
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
  });
});
