/**
 * Planning a Monte Carlo of the run: costs, rates, the starting checkpoint interval, and the
 * up-front bound on the events it would simulate. Options are checked by the caller (the CLI
 * names its flags); here they are invariants.
 */
import type { Seed } from '../sim/index.js';
import { UserError, invariant } from '../errors.js';
import type { RunModel } from './run-model.js';
import type { RunInputs } from './inputs.js';
import { modelComponents } from './inputs.js';
import { checkpointCosts, restartCosts, youngDaly, type CheckpointCosts, type RestartCosts } from './checkpoint.js';
import { closedFormInputs, kokolisEttr } from './closed-form.js';
import { applyRecovery } from './recovery.js';
import type { RecoveryStrategy } from './inputs.js';
import { formatInt } from '../units/format.js';

/** Progress of a simulation: trials done out of a total, per phase. */
export interface Progress {
  phase: 'optimize' | 'simulate';
  done: number;
  total: number;
}

export interface SimulateOptions {
  /** Monte Carlo trials (default 1,000). */
  trials?: number;
  seed?: Seed;
  /** Work between checkpoints, overriding the scenario's. */
  checkpointIntervalSeconds?: number;
  /** Search the interval that maximises goodput (Young/Daly as the starting point). */
  optimize?: boolean;
  /** Simulate this wall-clock window instead of the whole token budget. */
  horizonSeconds?: number;
  /** Bins of the finish-time histogram (default 20). */
  histogramBins?: number;
  /** Run only this contiguous block of the trials (index from 0 to count − 1); see shard.ts. */
  shard?: ShardSpec;
  /** Notes the caller puts first in the summary. */
  notes?: string[];
  onProgress?: (p: Progress) => void;
}

/** A block of the trials: shard `index` (from 0) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Trials [start, end) of a shard: contiguous blocks, ⌊index·T/count⌋ to ⌊(index+1)·T/count⌋ (all trials without one). */
export function shardRange(trials: number, shard?: ShardSpec): [number, number] {
  if (!shard) return [0, trials];
  return [Math.floor((shard.index * trials) / shard.count), Math.floor(((shard.index + 1) * trials) / shard.count)];
}

export type IntervalSource = 'option' | 'scenario' | 'young-daly' | 'optimized' | 'none';

/** The run, before an interval is chosen. */
export interface RunPlan {
  inputs: RunInputs;
  trials: number;
  seed: Seed;
  horizon: boolean;
  base: Omit<RunModel, 'intervalSeconds'>;
  ckpt: CheckpointCosts;
  restart: RestartCosts;
  /** Mean seconds between unexpected interruptions (Infinity without failures). */
  mtbfSeconds: number;
  young: number | null;
  daly: number | null;
  /** Interval in whole steps, and where it came from; the optimizer may replace it. */
  intervalSteps: number;
  source: Exclude<IntervalSource, 'optimized'>;
  /** Events the whole Monte Carlo is expected to simulate (see expectedEvents). */
  expectedEvents: number;
}

export const MAX_TRIALS = 10_000_000;

/** Largest expected number of events across all trials of one Monte Carlo (~10-20 s of work). */
export const MAX_EXPECTED_EVENTS = 3e8;

/** Trials per candidate while searching the interval (same trial seeds for all: common random numbers). */
export function optimizeTrials(plan: Pick<RunPlan, 'trials'>): number {
  return Math.min(plan.trials, 250);
}

/** Upper bound on candidates the search evaluates (for progress bars). */
export const MAX_CANDIDATES = 9 + 8;

/** A Monte Carlo refused up front: it would simulate more than MAX_EXPECTED_EVENTS events. */
export class RunTooLarge extends UserError {
  constructor(
    message: string,
    fieldPath: string,
    /** The longest window (seconds of wall time per trial) that fits at the requested trials. */
    readonly largestSpanSeconds: number,
  ) {
    super(message, undefined, fieldPath);
  }
}

/**
 * Events one trial handles per second of wall time: each arrival, the restart that follows it
 * (and a planned stop's save), and each node repair's return to the pool.
 */
export function eventsPerSecond(base: Pick<RunModel, 'components'>): number {
  return base.components.reduce((s, c) => s + c.ratePerSecond * (2 + (c.planned ? 1 : 0) + (c.nodesOut > 0 ? 1 : 0)), 0);
}

/** Builds the plan: costs, rates, the starting interval; refuses a Monte Carlo expected to simulate too many events. */
export function planRun(inputs: RunInputs, options: SimulateOptions = {}): RunPlan {
  const trials = options.trials ?? 1000;
  invariant(Number.isInteger(trials) && trials >= 1 && trials <= MAX_TRIALS, `trials must be a whole number from 1 to ${MAX_TRIALS}, got ${trials}`);
  const seed = options.seed ?? 1;
  invariant(inputs.stepSeconds > 0 && Number.isFinite(inputs.stepSeconds), `step time must be positive, got ${inputs.stepSeconds}`);
  invariant(inputs.tokensPerStep > 0, 'tokens per step must be positive');
  const horizon = options.horizonSeconds !== undefined;
  invariant(!horizon || (options.horizonSeconds! > 0 && Number.isFinite(options.horizonSeconds!)), `the horizon must be a positive duration, got ${options.horizonSeconds}`);
  invariant(options.checkpointIntervalSeconds === undefined || options.checkpointIntervalSeconds > 0, `the checkpoint interval must be positive, got ${options.checkpointIntervalSeconds}`);
  const steps = Math.ceil(inputs.totalTokens / inputs.tokensPerStep);
  const workSeconds = horizon ? Infinity : steps * inputs.stepSeconds;
  const ckpt = checkpointCosts(inputs);
  const restart = restartCosts(inputs, ckpt);
  const components = modelComponents(inputs);
  const unexpectedRate = components.reduce((s, c) => s + (c.planned ? 0 : c.ratePerSecond), 0);
  const mtbfSeconds = unexpectedRate > 0 ? 1 / unexpectedRate : Infinity;
  const yd = Number.isFinite(mtbfSeconds) && ckpt.pauseSeconds > 0 ? youngDaly(ckpt.pauseSeconds, mtbfSeconds) : null;
  const span = horizon ? options.horizonSeconds! : workSeconds;

  let seconds: number;
  let source: RunPlan['source'];
  if (options.checkpointIntervalSeconds !== undefined) [seconds, source] = [options.checkpointIntervalSeconds, 'option'];
  else if (inputs.checkpointIntervalSeconds !== undefined) [seconds, source] = [inputs.checkpointIntervalSeconds, 'scenario'];
  else if (yd) [seconds, source] = [yd.daly, 'young-daly'];
  // Nothing fails (or saving is free): one save would never be needed.
  else [seconds, source] = [span, 'none'];
  const base: RunPlan['base'] = {
    workSeconds,
    horizonSeconds: horizon ? options.horizonSeconds! : Infinity,
    // A run that takes 50x its ideal time is reported as unfinished rather than simulated forever.
    maxWallSeconds: 50 * workSeconds + 365 * 86400,
    stepSeconds: inputs.stepSeconds,
    pauseSeconds: ckpt.pauseSeconds,
    backgroundSeconds: ckpt.backgroundSeconds,
    stopCheckpointSeconds: ckpt.writeSeconds,
    restartSeconds: restart.seconds,
    restoreSeconds: ckpt.loadSeconds,
    spareNodes: inputs.spareNodes,
    components,
  };
  const plan: RunPlan = { inputs, trials, seed, horizon, base, ckpt, restart, mtbfSeconds, young: yd?.young ?? null, daly: yd?.daly ?? null, intervalSteps: 1, source, expectedEvents: 0 };
  plan.intervalSteps = toSteps(plan, seconds);
  const [start, end] = shardRange(trials, options.shard);
  checkEventBudget(plan, end - start, options.optimize === true && Number.isFinite(mtbfSeconds));
  return plan;
}

/**
 * Refuses up front a Monte Carlo whose expected events (interruptions, restarts and node
 * repairs, over every trial including the interval search's) exceed MAX_EXPECTED_EVENTS, naming
 * the longest window that would fit. A whole run's wall time is taken as its work over the
 * closed-form ETTR (the wall cap when failures outpace progress): waiting for spares is not in it.
 */
function checkEventBudget(plan: RunPlan, simulatedTrials: number, optimize: boolean): void {
  const perSecond = eventsPerSecond(plan.base);
  const b = plan.base;
  let wall: number;
  if (plan.horizon) wall = b.horizonSeconds;
  else {
    const ettr = kokolisEttr(closedFormInputs(b), plan.intervalSteps * b.stepSeconds);
    wall = ettr > 0 ? Math.min(b.maxWallSeconds, b.workSeconds / ettr) : b.maxWallSeconds;
  }
  const trials = simulatedTrials + (optimize ? MAX_CANDIDATES * optimizeTrials(plan) : 0);
  plan.expectedEvents = perSecond * wall * trials;
  if (plan.expectedEvents <= MAX_EXPECTED_EVENTS) return;
  const largest = MAX_EXPECTED_EVENTS / (perSecond * trials);
  const days = (s: number) => (s / 86400 >= 10 ? String(Math.floor(s / 86400)) : (Math.floor((s / 86400) * 100) / 100).toString());
  throw new RunTooLarge(
    `would simulate about ${plan.expectedEvents.toExponential(1)} events (${formatInt(trials)} trials × ${days(wall)} days${plan.horizon ? '' : wall === b.maxWallSeconds ? ' to the wall cap, failures outpacing progress,' : ' expected'} × ${(perSecond * 86400).toPrecision(3)} a day: interruptions, restarts and node repairs); the limit is ${MAX_EXPECTED_EVENTS.toExponential(0)}, so at most ${days(largest)} days per trial would be simulated at ${formatInt(trials)} trials`,
    plan.horizon ? 'horizonSeconds' : 'training.totalTokens',
    largest,
  );
}

/** Interval in whole steps: at least one step, and (async) no shorter than the background write. */
export function toSteps(plan: RunPlan, seconds: number): number {
  const step = plan.base.stepSeconds;
  const cap = Number.isFinite(plan.base.workSeconds) ? Math.ceil(plan.base.workSeconds / step) : Math.ceil(Math.max(seconds, plan.base.horizonSeconds) / step);
  const minSteps = Math.max(1, Math.ceil(plan.base.backgroundSeconds / step - 1e-9));
  return Math.min(Math.max(minSteps, Math.round(seconds / step)), Math.max(minSteps, cap));
}

/** The engine model at `intervalSteps`, under the scenario's recovery strategy (or `strategy`). */
export function modelAt(plan: RunPlan, intervalSteps: number, strategy: RecoveryStrategy = plan.inputs.recovery ?? 'checkpoint-restart'): RunModel {
  return applyRecovery({ ...plan.base, intervalSeconds: intervalSteps * plan.base.stepSeconds }, strategy, plan);
}
