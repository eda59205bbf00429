/** Searching the checkpoint interval that maximises goodput, by replaying the same trials at each candidate. */
import { invariant } from '../errors.js';
import type { RunModel } from './run-model.js';
import { TrialField as F, rowWidth } from './trial-row.js';
import { toSteps, type RunPlan } from './plan-run.js';

/** The search's answer as reported: the best interval, its goodput, and every candidate tried. */
export interface IntervalOptimum {
  intervalSeconds: number;
  goodput: number;
  candidates: { intervalSeconds: number; goodput: number }[];
}

/** Optimizer score of a batch: mean goodput in horizon mode, minus mean wall time for a full run. */
export function score(plan: RunPlan, model: RunModel, rows: Float64Array, n: number): number {
  const w = rowWidth(model);
  let s = 0;
  for (let t = 0; t < n; t++) s += plan.horizon ? rows[t * w + F.useful] / rows[t * w + F.wall] : -rows[t * w + F.wall];
  return s / n;
}

/** Mean goodput of a batch. */
export function meanGoodput(model: RunModel, rows: Float64Array, n: number): number {
  const w = rowWidth(model);
  let s = 0;
  for (let t = 0; t < n; t++) s += rows[t * w + F.useful] / rows[t * w + F.wall];
  return s / n;
}

/**
 * Interval search as a coroutine: yields a candidate (whole steps), receives its score. A grid
 * of √2 steps around Young/Daly (or the given interval), then golden-section refinement of the
 * best bracket in log space. All candidates replay the same trials, so the comparison is smooth.
 */
export function* intervalSearch(plan: RunPlan): Generator<number, number, number> {
  const center = plan.daly ?? plan.intervalSteps * plan.base.stepSeconds;
  const scores = new Map<number, number>();
  function* evaluate(steps: number): Generator<number, number, number> {
    const known = scores.get(steps);
    if (known !== undefined) return known;
    const s = yield steps;
    scores.set(steps, s);
    return s;
  }
  const grid = [...new Set(Array.from({ length: 9 }, (_, i) => toSteps(plan, center * Math.SQRT2 ** (i - 4))))].sort((a, b) => a - b);
  let best = grid[0];
  for (const g of grid) if ((yield* evaluate(g)) > (yield* evaluate(best))) best = g;
  const i = grid.indexOf(best);
  let lo = Math.log(grid[Math.max(0, i - 1)]);
  let hi = Math.log(grid[Math.min(grid.length - 1, i + 1)]);
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let iter = 0; iter < 8 && Math.exp(hi) - Math.exp(lo) > 2; iter++) {
    const a = Math.round(Math.exp(hi - phi * (hi - lo)));
    const b = Math.round(Math.exp(lo + phi * (hi - lo)));
    const sa = yield* evaluate(a);
    const sb = yield* evaluate(b);
    if (sa >= sb) hi = Math.log(b);
    else lo = Math.log(a);
    for (const [k, v] of [[a, sa], [b, sb]] as const) if (v > (yield* evaluate(best))) best = k;
  }
  return best;
}

/** Drives intervalSearch with batches of trial rows evaluated by the caller. */
export function searchDriver(plan: RunPlan) {
  const gen = intervalSearch(plan);
  const candidates: { intervalSeconds: number; goodput: number }[] = [];
  let step = gen.next();
  return {
    /** The candidate to evaluate next, or undefined when done. */
    next(): number | undefined {
      return step.done ? undefined : step.value;
    },
    report(model: RunModel, rows: Float64Array, n: number): void {
      candidates.push({ intervalSeconds: model.intervalSeconds, goodput: meanGoodput(model, rows, n) });
      step = gen.next(score(plan, model, rows, n));
    },
    result(): { steps: number; optimum: IntervalOptimum } {
      invariant(step.done, 'interval search not finished');
      const steps = step.value;
      const seconds = steps * plan.base.stepSeconds;
      const sortedCandidates = candidates.sort((a, b) => a.intervalSeconds - b.intervalSeconds);
      return { steps, optimum: { intervalSeconds: seconds, goodput: sortedCandidates.find((c) => c.intervalSeconds === seconds)!.goodput, candidates: sortedCandidates } };
    },
  };
}
