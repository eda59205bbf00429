/**
 * The Monte Carlo flow: an optional interval search, then the trials, as batches of trial rows
 * asked of a batch runner (in this thread, or worker threads in parallel.ts), all through one
 * driver loop. Trial t always draws from deriveSeed(seed, t) and statistics are taken in trial
 * order, so a summary is byte-identical however its trials were split.
 */
import type { Seed } from '../sim/index.js';
import { invariant } from '../errors.js';
import type { RunModel } from './run-model.js';
import { rowWidth } from './trial-row.js';
import { runTrialRange } from './trial-runner.js';
import { RECOVERY_STRATEGIES, type RecoveryStrategy, type RunInputs } from './inputs.js';
import { closedFormInputs } from './closed-form.js';
import { planRun, modelAt, shardRange, optimizeTrials, MAX_CANDIDATES, type Progress, type RunPlan, type SimulateOptions } from './plan-run.js';
import { searchDriver, type IntervalOptimum } from './interval-search.js';
import { summarize, summaryContext, type FailureSummary, type SummaryContext } from './summary.js';

/** Trials [start, end) of one model, asked of a batch runner. */
export interface TrialBatch {
  model: RunModel;
  seed: Seed;
  start: number;
  end: number;
  phase: Progress['phase'];
}

/** The final trials' rows (trials [start, end), row-major) and what summarizes them. */
export interface TrialRows {
  context: SummaryContext;
  model: RunModel;
  start: number;
  end: number;
  rows: Float64Array;
}

/** Runs a batch, synchronously or not, calling onDone as trials complete. */
export type BatchRunner = (batch: TrialBatch, onDone: (trials: number) => void) => Float64Array | Promise<Float64Array>;

/** The whole flow as a coroutine: yields batches, receives their rows, returns the final trials. */
export function* simulateFlow(plan: RunPlan, options: SimulateOptions): Generator<TrialBatch, TrialRows, Float64Array> {
  let steps = plan.intervalSteps;
  let optimum: IntervalOptimum | null = null;
  if (options.optimize && Number.isFinite(plan.mtbfSeconds)) {
    // Every shard runs the same search (same trials), so all agree on the interval.
    const search = searchDriver(plan);
    const n = optimizeTrials(plan);
    for (let c = search.next(); c !== undefined; c = search.next()) {
      const model = modelAt(plan, c);
      const rows = yield { model, seed: plan.seed, start: 0, end: n, phase: 'optimize' };
      search.report(model, rows, n);
    }
    ({ steps, optimum } = search.result());
  }
  const model = modelAt(plan, steps);
  const [start, end] = shardRange(plan.trials, options.shard);
  const rows = yield { model, seed: plan.seed, start, end, phase: 'simulate' };
  return { context: summaryContext(plan, model, steps, optimum, options), model, start, end, rows };
}

/** Trials each phase will run (the search's bounded by MAX_CANDIDATES), for progress bars. */
export function progressTotals(plan: RunPlan, options: SimulateOptions): Record<Progress['phase'], number> {
  const [start, end] = shardRange(plan.trials, options.shard);
  return { optimize: options.optimize && Number.isFinite(plan.mtbfSeconds) ? MAX_CANDIDATES * optimizeTrials(plan) : 0, simulate: end - start };
}

/**
 * The one driver loop, shared by the in-process and worker-thread paths: feeds each batch the
 * flow asks for to `run` and reports progress. Stays synchronous while `run` is.
 */
export function driveFlow(plan: RunPlan, options: SimulateOptions, run: BatchRunner): TrialRows | Promise<TrialRows> {
  const totals = progressTotals(plan, options);
  const done = { optimize: 0, simulate: 0 };
  const flow = simulateFlow(plan, options);
  const resume = (rows?: Float64Array): TrialRows | Promise<TrialRows> => {
    let req = rows === undefined ? flow.next() : flow.next(rows);
    while (!req.done) {
      const { phase } = req.value;
      const out = run(req.value, (k) => {
        done[phase] += k;
        options.onProgress?.({ phase, done: done[phase], total: phase === 'simulate' ? totals.simulate : Math.max(done.optimize, totals.optimize) });
      });
      if (out instanceof Promise) return out.then(resume);
      req = flow.next(out);
    }
    return req.value;
  };
  return resume();
}

/** In-process batch runner, in chunks so progress can be reported. */
export function runInProcess(batch: TrialBatch, onDone: (trials: number) => void): Float64Array {
  const w = rowWidth(batch.model);
  const out = new Float64Array((batch.end - batch.start) * w);
  const chunk = 256;
  for (let s = batch.start; s < batch.end; s += chunk) {
    const e = Math.min(batch.end, s + chunk);
    out.set(runTrialRange(batch.model, batch.seed, s, e), (s - batch.start) * w);
    onDone(e - s);
  }
  return out;
}

/** The Monte Carlo's final rows, computed in this thread. */
export function simulateTrials(inputs: RunInputs, options: SimulateOptions = {}): TrialRows {
  const out = driveFlow(planRun(inputs, options), options, runInProcess);
  invariant(!(out instanceof Promise), 'the in-process runner is synchronous');
  return out;
}

/** Monte Carlo of the run in this thread: days, interruptions, lost GPU-hours, goodput, checkpoint interval. */
export function simulateRun(inputs: RunInputs, options: SimulateOptions = {}): FailureSummary {
  invariant(options.shard === undefined, 'a shard is not a whole summary: use simulateTrials and failureShard');
  const r = simulateTrials(inputs, options);
  return summarize(r.context, r.rows);
}

/** One recovery strategy's answer on the same fault draws (common random numbers). */
export interface RecoveryComparison {
  strategy: RecoveryStrategy;
  /** The scenario's own strategy (the rest of the report is about it). */
  chosen: boolean;
  goodput: { mean: number; p5: number; p50: number; p99: number };
  /** Kokolis et al.'s closed form under this strategy's costs. */
  closedFormEttr: number;
  days: { mean: number; p90: number };
  lostGpuHours: { mean: number; p90: number };
  badput: FailureSummary['badput'];
  gpuHours: { mean: number; p90: number };
  spareGpuHours: number;
  costUsd: { mean: number; p90: number } | null;
  notes: string[];
}

/**
 * Every recovery strategy on the same trials (same seeds, the final interval of `rows`), in this
 * thread: byte-identical whatever the worker count of the main run.
 */
export function compareRecovery(inputs: RunInputs, options: SimulateOptions, rows: TrialRows): RecoveryComparison[] {
  const plan = planRun(inputs, { ...options, optimize: false, shard: undefined, checkpointIntervalSeconds: undefined });
  const steps = rows.context.interval.steps;
  const chosen = inputs.recovery ?? 'checkpoint-restart';
  return RECOVERY_STRATEGIES.map((strategy) => {
    const model = modelAt(plan, steps, strategy);
    const s = summarize({ ...rows.context, interval: { ...rows.context.interval, seconds: model.intervalSeconds }, checkpoint: { ...rows.context.checkpoint, pauseSeconds: model.pauseSeconds, backgroundSeconds: model.backgroundSeconds }, recovery: strategy, closedForm: closedFormInputs(model), notes: [] }, runTrialRange(model, plan.seed, 0, plan.trials));
    return {
      strategy,
      chosen: strategy === chosen,
      goodput: { mean: s.goodput.mean, p5: s.goodput.p5, p50: s.goodput.p50, p99: s.goodput.p99 },
      closedFormEttr: s.closedForm.ettr,
      days: { mean: s.days.mean, p90: s.days.p90 },
      lostGpuHours: { mean: s.lostGpuHours.mean, p90: s.lostGpuHours.p90 },
      badput: s.badput,
      gpuHours: s.cost.expected.gpuHours,
      spareGpuHours: s.cost.expected.spareGpuHours,
      costUsd: s.cost.expected.costUsd,
      notes: s.notes,
    };
  });
}
