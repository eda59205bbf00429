/**
 * The Monte Carlo's answer: statistics of the trial rows, in trial order. Everything the
 * statistics need besides the rows is a SummaryContext of plain, JSON-safe values, so a summary
 * can be rebuilt from rows computed elsewhere (worker threads, or shards on other machines).
 */
import type { ModelComponent, RunModel } from './run-model.js';
import { TrialField as F } from './trial-row.js';
import type { CheckpointCosts, RestartCosts } from './checkpoint.js';
import { closedFormInputs, unexpectedLossRate, type ClosedFormInputs } from './closed-form.js';
import { closedFormSummary, CLOSED_FORM_MAX_LOSS, CLOSED_FORM_MIN_INTERRUPTIONS, CLOSED_FORM_MIN_INTERVALS, type ClosedFormSummary, type RunObserved } from './closed-form-check.js';
import type { IntervalSource, RunPlan } from './plan-run.js';
import type { IntervalOptimum } from './interval-search.js';
import { mean, percentile, sorted, histogram } from './stats.js';
import type { RecoveryStrategy } from './inputs.js';
import { formatPercent as pct } from '../units/format.js';

/** Mean and percentiles of a per-trial quantity. */
export interface Distribution {
  mean: number;
  p5: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface ComponentSummary {
  category: string;
  planned: boolean;
  mean: number;
  p90: number;
  /** rate × exposure (mean wall time of the trials). */
  expected: number;
}

/** The Monte Carlo answer: wall-clock days, interruptions, lost GPU-hours, goodput, spares, checkpointing. */
export interface FailureSummary {
  trials: number;
  seed: string;
  mode: 'run' | 'horizon';
  horizonDays: number | null;
  /** Trials that reached the end of the token budget (run mode) within the cap. */
  finishedTrials: number;
  days: Distribution & { ideal: number };
  interruptions: {
    total: { mean: number; p90: number };
    unexpected: { mean: number; p90: number };
    planned: { mean: number; p90: number };
    byComponent: Record<string, ComponentSummary>;
    /** Mean interruptions by what the job was doing when hit. */
    during: { running: number; checkpoint: number; recovery: number };
    /** Mean wall hours between unexpected interruptions (null without any). */
    mtbiHours: number | null;
  };
  /** Effective training time ratio: work kept / wall time. */
  goodput: Distribution;
  lostGpuHours: {
    mean: number;
    p90: number;
    recomputed: number;
    restart: number;
    checkpoint: number;
    detection: number;
    maintenance: number;
    waitingForSpares: number;
  };
  spares: {
    spareNodes: number;
    nodesReplaced: number;
    peakNodesOut: { mean: number; p99: number; max: number };
    /** Fraction of trials in which the job waited for the pool. */
    trialsWaited: number;
    waitHours: number;
  };
  checkpoint: {
    intervalSeconds: number;
    intervalSteps: number;
    source: IntervalSource;
    youngSeconds: number | null;
    dalySeconds: number | null;
    async: boolean;
    bytes: number;
    writeSeconds: number;
    pauseSeconds: number;
    backgroundSeconds: number;
    savesPerTrial: number;
    optimum: IntervalOptimum | null;
  };
  restart: RestartCosts;
  /** Tokens trained, mean over trials. */
  tokens: number;
  histogram: { unit: 'days'; edges: number[]; counts: number[] };
  closedForm: ClosedFormSummary;
  /** Lost GPU-hours per run in the buckets of Google's ML goodput measurement (each mean and p90; see badputBuckets). */
  badput: Record<BadputBucket, { mean: number; p90: number }>;
  /** What a buyer pays: the ideal run beside the expected one with failures and spare nodes. */
  cost: CostSummary;
  notes: string[];
}

/**
 * Badput buckets after Google's ML goodput measurement (cloud_tpu_goodput: program start-up,
 * checkpoint save, checkpoint restore, wasted progress from disruptions, infrastructure
 * recovery), plus planned maintenance and, elastic only, throughput lost while running shrunk.
 * progressLost holds the work redone and the time until a fault was detected; waitingForRepair the
 * time the pool had no spare.
 */
export type BadputBucket = 'startUp' | 'checkpointSave' | 'checkpointRestore' | 'progressLost' | 'waitingForRepair' | 'plannedMaintenance' | 'runningShrunk';

export interface CostSummary {
  recovery: RecoveryStrategy;
  /** USD per GPU-hour; null: price not set (costs are null, never $0). */
  pricePerGpuHour: number | null;
  spareBilling: 'held' | 'rented';
  spareGpus: number;
  /** Job GPUs over the failure-free run, no spares: evaluate's run.gpuHours and run.costUsd (null in horizon mode). */
  ideal: { gpuHours: number; costUsd: number | null } | null;
  /** Job GPUs over the wall time with failures, plus the spares (held: the whole run; rented: while standing in). */
  expected: {
    gpuHours: { mean: number; p90: number };
    jobGpuHours: number;
    spareGpuHours: number;
    costUsd: { mean: number; p90: number } | null;
  };
}

/** Everything summarize needs besides the rows: plain numbers and strings, JSON-safe (no Infinity). */
export interface SummaryContext {
  trials: number;
  seed: string;
  mode: 'run' | 'horizon';
  /** Horizon mode: the window; run mode: null. */
  horizonSeconds: number | null;
  /** Run mode: the work and the wall cap; horizon mode: null. */
  workSeconds: number | null;
  maxWallSeconds: number | null;
  gpus: number;
  spareNodes: number;
  stepSeconds: number;
  tokensPerStep: number;
  interval: { seconds: number; steps: number; source: IntervalSource };
  youngSeconds: number | null;
  dalySeconds: number | null;
  checkpointAsync: boolean;
  checkpoint: CheckpointCosts;
  restart: RestartCosts;
  optimum: IntervalOptimum | null;
  /** shape: only when not 1 (a Weibull process; absent, Poisson). */
  components: (Pick<ModelComponent, 'name' | 'category' | 'planned' | 'ratePerSecond'> & { shape?: number })[];
  closedForm: ClosedFormInputs;
  histogramBins: number;
  /** Buyer's cost inputs (absent in shards of older versions: no price, held spares, checkpoint-restart, 8 GPUs a node). */
  gpusPerNode?: number;
  pricePerGpuHour?: number | null;
  spareBilling?: 'held' | 'rented';
  recovery?: RecoveryStrategy;
  /** The caller's notes, first in the summary. */
  notes: string[];
  /** A programme stage that begins with a relaunch: its blocking save and restart, seconds (outside the closed form). */
  relaunchSeconds?: number;
}

/** The context of the final trials: the plan, the model they ran and the interval search's answer. */
export function summaryContext(plan: RunPlan, model: RunModel, intervalSteps: number, optimum: IntervalOptimum | null, options: { histogramBins?: number; notes?: string[] } = {}): SummaryContext {
  return {
    trials: plan.trials,
    seed: String(plan.seed),
    mode: plan.horizon ? 'horizon' : 'run',
    horizonSeconds: plan.horizon ? plan.base.horizonSeconds : null,
    workSeconds: plan.horizon ? null : plan.base.workSeconds,
    maxWallSeconds: plan.horizon ? null : plan.base.maxWallSeconds,
    gpus: plan.inputs.gpus,
    spareNodes: plan.inputs.spareNodes,
    stepSeconds: plan.inputs.stepSeconds,
    tokensPerStep: plan.inputs.tokensPerStep,
    interval: { seconds: model.intervalSeconds, steps: intervalSteps, source: optimum ? 'optimized' : plan.source },
    youngSeconds: plan.young,
    dalySeconds: plan.daly,
    checkpointAsync: plan.inputs.checkpointAsync,
    checkpoint: plan.ckpt,
    restart: plan.restart,
    optimum,
    components: model.components.map((c) => ({ name: c.name, category: c.category, planned: c.planned, ratePerSecond: c.ratePerSecond, ...(c.shape !== 1 ? { shape: c.shape } : {}) })),
    closedForm: closedFormInputs(model),
    histogramBins: options.histogramBins ?? 20,
    gpusPerNode: plan.inputs.gpusPerNode,
    pricePerGpuHour: plan.inputs.pricePerGpuHour ?? null,
    spareBilling: plan.inputs.spareBilling ?? 'held',
    recovery: plan.inputs.recovery ?? 'checkpoint-restart',
    notes: options.notes ?? [],
  };
}


/** Builds the summary from trial rows (row-major, trial order, ctx.trials rows). */
export function summarize(ctx: SummaryContext, rows: Float64Array): FailureSummary {
  const n = ctx.trials;
  const w = F.components + ctx.components.length;
  const col = (f: number) => {
    const a = new Float64Array(n);
    for (let t = 0; t < n; t++) a[t] = rows[t * w + f];
    return a;
  };
  const dist = (a: Float64Array): Distribution => {
    const s = sorted(a);
    return { mean: mean(a), p5: percentile(s, 5), p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
  };
  const mp90 = (a: Float64Array) => ({ mean: mean(a), p90: percentile(sorted(a), 90) });
  const horizon = ctx.mode === 'horizon';
  const gpuHours = ctx.gpus / 3600;
  const wall = col(F.wall);
  const useful = col(F.useful);
  const days = wall.map((s) => s / 86400);
  const meanWall = mean(wall);
  const unexpected = new Float64Array(n);
  const planned = new Float64Array(n);
  const byComponent: Record<string, ComponentSummary> = {};
  ctx.components.forEach((c, i) => {
    const a = col(F.components + i);
    for (let t = 0; t < n; t++) (c.planned ? planned : unexpected)[t] += a[t];
    byComponent[c.name] = { category: c.category, planned: c.planned, ...mp90(a), expected: c.ratePerSecond * meanWall };
  });
  const total = unexpected.map((u, t) => u + planned[t]);
  const lost = wall.map((x, t) => (x - useful[t]) * gpuHours);
  const goodput = useful.map((u, t) => u / wall[t]);
  const waited = col(F.waitEpisodes);
  const trialsWaited = waited.reduce((s, x) => s + (x > 0 ? 1 : 0), 0) / n;
  const peak = col(F.peakNodesOut);
  const peakSorted = sorted(peak);
  const finished = col(F.finished).reduce((s, x) => s + x, 0);
  const h = histogram(days, ctx.histogramBins);
  const closedForm = closedFormSummary(ctx, goodput, { meanWallSeconds: meanWall, meanUsefulSeconds: mean(useful), trialsWaited });
  const notes: string[] = [...ctx.notes];
  const meanUnexpected = mean(unexpected);
  if (trialsWaited > 0) {
    notes.push(`the spare pool (${ctx.spareNodes} nodes) ran empty in ${(100 * trialsWaited).toFixed(1)}% of trials: the job waited ${(mean(col(F.wait)) / 3600).toFixed(2)} h on average for repairs; peak nodes out p99 ${percentile(peakSorted, 99).toFixed(0)}`);
  }
  if (!horizon && finished < n) notes.push(`${n - finished} of ${n} trials did not finish within ${(ctx.maxWallSeconds! / 86400).toFixed(0)} days (failures outpace progress); their days are the cap`);
  if (ctx.checkpoint.pauseSeconds > 0.5 * ctx.interval.seconds) notes.push(`checkpoint pause ${ctx.checkpoint.pauseSeconds.toFixed(1)} s is large against the interval ${ctx.interval.seconds.toFixed(0)} s`);
  if (!closedForm.agrees) {
    const [lo, hi] = closedForm.monteCarlo.trialInterval95;
    const head = `the closed form (Kokolis et al. 2024) expects goodput ${pct(closedForm.ettr)}, outside the 95% of trials (${pct(lo)}–${pct(hi)})`;
    notes.push(
      closedForm.applies
        ? `${head}, although its assumptions hold here (Poisson faults, no wait for spares, first-order loss ${pct(unexpectedLossRate(ctx.closedForm, ctx.interval.seconds))} ≤ ${pct(CLOSED_FORM_MAX_LOSS, 0)}, ≥ ${CLOSED_FORM_MIN_INTERRUPTIONS} interruptions and ≥ ${CLOSED_FORM_MIN_INTERVALS} checkpoint intervals per run): the Monte Carlo and the closed form's inputs deserve a look`
        : `${head}; it does not apply here: ${closedForm.caveats.join('; ')}`,
    );
  }
  return {
    trials: n,
    seed: ctx.seed,
    mode: ctx.mode,
    horizonDays: horizon ? ctx.horizonSeconds! / 86400 : null,
    finishedTrials: horizon ? 0 : finished,
    days: { ...dist(days), ideal: (horizon ? ctx.horizonSeconds! : ctx.workSeconds!) / 86400 },
    interruptions: {
      total: mp90(total),
      unexpected: { mean: meanUnexpected, p90: percentile(sorted(unexpected), 90) },
      planned: mp90(planned),
      byComponent,
      during: { running: mean(col(F.duringRunning)), checkpoint: mean(col(F.duringCheckpoint)), recovery: mean(col(F.duringRecovery)) },
      mtbiHours: meanUnexpected > 0 ? meanWall / 3600 / meanUnexpected : null,
    },
    goodput: dist(goodput),
    lostGpuHours: {
      ...mp90(lost),
      recomputed: mean(col(F.recompute)) * gpuHours,
      restart: mean(col(F.restart)) * gpuHours,
      checkpoint: mean(col(F.checkpoint)) * gpuHours,
      detection: mean(col(F.detect)) * gpuHours,
      maintenance: mean(col(F.maintenance)) * gpuHours,
      waitingForSpares: mean(col(F.wait)) * gpuHours,
    },
    spares: {
      spareNodes: ctx.spareNodes,
      nodesReplaced: mean(col(F.nodesReplaced)),
      peakNodesOut: { mean: mean(peak), p99: percentile(peakSorted, 99), max: peakSorted[n - 1] },
      trialsWaited,
      waitHours: mean(col(F.wait)) / 3600,
    },
    checkpoint: {
      intervalSeconds: ctx.interval.seconds,
      intervalSteps: ctx.interval.steps,
      source: ctx.interval.source,
      youngSeconds: ctx.youngSeconds,
      dalySeconds: ctx.dalySeconds,
      async: ctx.checkpointAsync,
      bytes: ctx.checkpoint.bytes,
      writeSeconds: ctx.checkpoint.writeSeconds,
      pauseSeconds: ctx.checkpoint.pauseSeconds,
      backgroundSeconds: ctx.checkpoint.backgroundSeconds,
      savesPerTrial: mean(col(F.checkpoints)),
      optimum: ctx.optimum,
    },
    restart: ctx.restart,
    tokens: (mean(useful) / ctx.stepSeconds) * ctx.tokensPerStep,
    histogram: { unit: 'days', edges: h.edges, counts: h.counts },
    closedForm,
    badput: badputBuckets(rows, w, n, gpuHours),
    cost: costSummary(ctx, wall, col(F.spareNodeSeconds)),
    notes,
  };
}

/** The trial-row fields each badput bucket adds (startUp: the restart less its restore part). */
export const BADPUT_FIELDS: Record<BadputBucket, { plus: number[]; minus?: number[] }> = {
  startUp: { plus: [F.restart], minus: [F.restore] },
  checkpointSave: { plus: [F.checkpoint] },
  checkpointRestore: { plus: [F.restore] },
  progressLost: { plus: [F.recompute, F.detect] },
  waitingForRepair: { plus: [F.wait] },
  plannedMaintenance: { plus: [F.maintenance] },
  runningShrunk: { plus: [F.degraded] },
};

/** Seconds of bucket `fields` in the trial row at `b`. */
export function badputSeconds(row: ArrayLike<number>, b: number, fields: (typeof BADPUT_FIELDS)[BadputBucket]): number {
  let x = 0;
  for (const f of fields.plus) x += row[b + f];
  for (const f of fields.minus ?? []) x -= row[b + f];
  return x;
}

/** Per-trial lost GPU-hours in Google's goodput buckets (each trial's buckets sum to its lost GPU-hours). */
function badputBuckets(rows: Float64Array, w: number, n: number, gpuHours: number): FailureSummary['badput'] {
  const out = {} as FailureSummary['badput'];
  for (const [bucket, fields] of Object.entries(BADPUT_FIELDS) as [BadputBucket, (typeof BADPUT_FIELDS)[BadputBucket]][]) {
    const a = new Float64Array(n);
    for (let t = 0; t < n; t++) a[t] = badputSeconds(rows, t * w, fields) * gpuHours;
    out[bucket] = { mean: mean(a), p90: percentile(sorted(a), 90) };
  }
  return out;
}

/** GPU-seconds of spare nodes in a trial of `wallSeconds`: held, the whole pool throughout; rented, while standing in, never more than the pool. */
export function spareGpuSeconds(ctx: Pick<SummaryContext, 'spareNodes' | 'gpusPerNode' | 'spareBilling'>, wallSeconds: number, spareNodeSeconds: number): number {
  const gpusPerNode = ctx.gpusPerNode ?? 8;
  return (ctx.spareBilling ?? 'held') === 'held' ? ctx.spareNodes * gpusPerNode * wallSeconds : Math.min(spareNodeSeconds, ctx.spareNodes * wallSeconds) * gpusPerNode;
}

/** Ideal and expected GPU-hours and cost: job GPUs over each trial's wall time, plus held or rented spares. */
function costSummary(ctx: SummaryContext, wall: Float64Array, spareNodeSeconds: Float64Array): CostSummary {
  const price = ctx.pricePerGpuHour ?? null;
  const billing = ctx.spareBilling ?? 'held';
  const gpusPerNode = ctx.gpusPerNode ?? 8;
  const spareGpus = ctx.spareNodes * gpusPerNode;
  const job = wall.map((w) => (ctx.gpus * w) / 3600);
  const spare = wall.map((w, t) => spareGpuSeconds(ctx, w, spareNodeSeconds[t]) / 3600);
  const total = job.map((x, t) => x + spare[t]);
  const gpuHours = { mean: mean(total), p90: percentile(sorted(total), 90) };
  const idealGpuHours = ctx.workSeconds !== null ? (ctx.gpus * ctx.workSeconds) / 3600 : null;
  return {
    recovery: ctx.recovery ?? 'checkpoint-restart',
    pricePerGpuHour: price,
    spareBilling: billing,
    spareGpus,
    ideal: idealGpuHours === null ? null : { gpuHours: idealGpuHours, costUsd: price === null ? null : idealGpuHours * price },
    expected: {
      gpuHours,
      jobGpuHours: mean(job),
      spareGpuHours: mean(spare),
      costUsd: price === null ? null : { mean: gpuHours.mean * price, p90: gpuHours.p90 * price },
    },
  };
}
