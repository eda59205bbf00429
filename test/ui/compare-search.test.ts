/** `clusterplan compare --search`: the search's plans as rows that reproduce what the search found. */
import { describe, it, expect, beforeAll } from 'vitest';
import { cli } from '../cli/in-process.js';
import { readPlanData, checkSearchStep } from '../../src/cli/compare-eval.js';
import { searchSets } from '../../src/cli/compare-search.js';
import { applyOverrides, parseScenario } from '../../src/io/load.js';
import { enumerate, clusterSize } from '../../src/search/space.js';
import { candidateScenario } from '../../src/search/bounds.js';
import type { Evaluation } from '../../src/run/evaluate.js';
import { runPiped } from './fixtures.js';

const PLAN_KEYS = ['tp', 'cp', 'pp', 'vpp', 'dp', 'ep', 'etp', 'zeroStage', 'microBatch', 'recompute', 'schedule', 'precision'];

interface Row {
  name: string;
  overrides: string[];
  search?: { rank: number; scenario: string; objective: string };
  values: { stepSeconds: number } | null;
  evaluation: Evaluation | null;
}

describe('compare --search', () => {
  let rows: Row[];
  let top: { rank: number; results: { stepSeconds: number }; detail: { engine: string; closedFormStepSeconds: number } }[];
  beforeAll(async () => {
    const c = await cli(['compare', 'scenarios/tiny.yaml', '--search', '--search-top', '3', '--json', '--trials', '5']);
    expect(c.status, c.stderr).toBe(0);
    rows = JSON.parse(c.stdout).plans;
    const s = await cli(['search', 'scenarios/tiny.yaml', '--top', '3', '--json', '--no-timing']);
    expect(s.status, s.stderr).toBe(0);
    top = JSON.parse(s.stdout).top;
  }, 60_000);

  it('adds the top K plans after the given ones, named by rank and layout', () => {
    expect(rows.map((r) => r.name)).toEqual(['tiny', ...top.map((t) => expect.stringMatching(new RegExp(`^search #${t.rank} TP\\d+ CP\\d+ PP\\d+`)))]);
    for (const r of rows.slice(1)) {
      // A full set of plan fields, as overrides of the scenario.
      for (const k of PLAN_KEYS) expect(r.overrides.some((o) => o.startsWith(`plan.${k}=`)), `${r.name} plan.${k}`).toBe(true);
      expect(r.search?.objective).toBe('time');
    }
  });

  it('each row reproduces the step time the search re-ranked it with (discrete-event) and its closed form', () => {
    rows.slice(1).forEach((r, k) => {
      expect(r.evaluation!.engine).toBe(top[k].detail.engine);
      expect(r.values!.stepSeconds).toBe(top[k].results.stepSeconds);
      expect(r.evaluation!.step.analyticSeconds).toBe(top[k].detail.closedFormStepSeconds);
      expect(r.evaluation!.notes.join(' ')).not.toMatch(/reproduce/);
    });
  });

  it('says so when a row does not reproduce the search', () => {
    const ev = { engine: 'des', step: { seconds: 2, analyticSeconds: 1.9 } } as Evaluation;
    expect(checkSearchStep(ev, { engine: 'des', stepSeconds: 2, closedFormStepSeconds: 1.9 })).toBeUndefined();
    expect(checkSearchStep(ev, { engine: 'des', stepSeconds: 2.1, closedFormStepSeconds: 1.9 })).toMatch(/discrete-event step 2 s here, 2.1 s in the search/);
    expect(checkSearchStep({ ...ev, engine: 'analytic' }, { engine: 'des', stepSeconds: 2.1, closedFormStepSeconds: 1.8 })).toMatch(/closed-form step 1.9 s here, 1.8 s in the search/);
  });

  it('the overrides resolve to exactly the plan the search evaluated, whatever the file says about the split and sequence parallelism', () => {
    const variants: string[][] = [[], ['plan.layersPerStage=[1,3]'], ['plan.sequenceParallel=false'], ['plan.tp=1', 'plan.dp=4', 'plan.sequenceParallel=true'], ['plan.globalBatch={tokens: 2048}']];
    let checked = 0;
    for (const v of variants) {
      const data = readPlanData('scenarios/tiny.yaml', v);
      const sc = parseScenario(structuredClone(data), 'scenarios/tiny.yaml');
      const size = clusterSize(sc, sc.cluster.gpus, false);
      let i = 0;
      for (const c of enumerate(sc, [size])) {
        if (i++ % 7 !== 0) continue;
        const want = candidateScenario(sc, c, size).scenario;
        if (!want) continue;
        const sets = searchSets(data, sc, { plan: c, gpus: c.gpus }, size);
        const got = parseScenario(applyOverrides(structuredClone(data), sets, 'scenarios/tiny.yaml'), 'scenarios/tiny.yaml');
        expect(got.plan, `${v.join(' ')} | ${sets.join(' ')}`).toEqual(want.plan);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('piped, the table lists the search rows, without escape codes, exit 0', async () => {
    const r = await runPiped(['compare', 'scenarios/tiny.yaml', '--search', '--search-top', '2', '--trials', '5']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b/);
    const names = r.stdout.split('\n').filter((l) => /^(tiny|search #)/.test(l)).map((l) => l.slice(0, 9));
    expect(names).toEqual(['tiny     ', 'search #1', 'search #2']);
  }, 60_000);

  it('--search-top outside 1..100 is one line and exit 2', async () => {
    const r = await cli(['compare', 'scenarios/tiny.yaml', '--search', '--search-top', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('error: --search-top: must be a whole number from 1 to 100, got 0');
  });
});
