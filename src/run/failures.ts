/**
 * Failure budgeting: how long a run really takes once failures, restarts and checkpoints are
 * counted, by Monte Carlo over the run engine (engine.ts).
 *
 * Inputs are plain numbers (RunInputs) so the core is pure; runInputsFromScenario derives them
 * from a resolved scenario and its step-time evaluation. Trial t always draws from
 * deriveSeed(seed, t) and statistics are taken in trial order, so a summary is byte-identical
 * whether its trials ran here or spread over worker threads (parallel.ts).
 */
import type { Seed } from '../sim/index.js';
import { UserError, invariant } from '../errors.js';
import type { Scenario } from '../plan/resolve.js';
import type { FailureProfile } from '../schema/failures.js';
import { countParams } from '../model/params.js';
import { F, rowWidth, runTrialRange, type ModelComponent, type RunModel } from './engine.js';
import { mean, percentile, sorted, histogram } from './stats.js';

/** Storage bandwidths in bytes per second. */
export interface StorageInputs {
  writeBytesPerSecond: number;
  /** Default: the write bandwidth. */
  readBytesPerSecond?: number;
  /** Per node limit, both directions; none when absent. */
  perNodeBytesPerSecond?: number;
}

/** Everything the failure engine needs, as plain numbers (SI units). */
export interface RunInputs {
  stepSeconds: number;
  tokensPerStep: number;
  totalTokens: number;
  gpus: number;
  nodes: number;
  gpusPerNode: number;
  spareNodes: number;
  /** Nodes under one lowest-tier switch (what a switch-scope fault takes out). */
  nodesPerSwitch: number;
  /** Bytes one checkpoint writes (weights and optimizer state, each shard once). */
  checkpointBytes: number;
  /** Bytes a restore reads (replicated weights are read by every replica). */
  checkpointReadBytes: number;
  checkpointAsync: boolean;
  /** The scenario's interval, if it gives one. */
  checkpointIntervalSeconds?: number;
  storage: StorageInputs;
  failures: FailureProfile;
}

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
  onProgress?: (p: Progress) => void;
}

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
    source: 'option' | 'scenario' | 'young-daly' | 'optimized' | 'none';
    youngSeconds: number | null;
    dalySeconds: number | null;
    async: boolean;
    bytes: number;
    writeSeconds: number;
    pauseSeconds: number;
    backgroundSeconds: number;
    savesPerTrial: number;
    optimum: { intervalSeconds: number; goodput: number; candidates: { intervalSeconds: number; goodput: number }[] } | null;
  };
  restart: { seconds: number; relaunchSeconds: number; initSeconds: number; loadSeconds: number };
  /** Tokens trained, mean over trials. */
  tokens: number;
  histogram: { unit: 'days'; edges: number[]; counts: number[] };
  notes: string[];
}

/** Derived save and restore costs, in seconds. */
export interface CheckpointCosts {
  bytes: number;
  /** A full blocking save: data over the slower of aggregate and per-node bandwidth, plus the fixed overhead. */
  writeSeconds: number;
  /** Job pause per save: the blocking write, or the async device-to-host snapshot. */
  pauseSeconds: number;
  /** Async: the storage write that continues behind training. */
  backgroundSeconds: number;
  loadSeconds: number;
}

/** Save and restore times from checkpoint size and storage bandwidth. */
export function checkpointCosts(inputs: RunInputs): CheckpointCosts {
  const fmt = inputs.failures.checkpoint;
  const st = inputs.storage;
  const transfer = (bytes: number, aggregate: number) => Math.max(bytes / aggregate, st.perNodeBytesPerSecond ? bytes / inputs.nodes / st.perNodeBytesPerSecond : 0);
  const dataSeconds = transfer(inputs.checkpointBytes, st.writeBytesPerSecond);
  const writeSeconds = dataSeconds + fmt.saveOverhead;
  const loadSeconds = transfer(inputs.checkpointReadBytes, st.readBytesPerSecond ?? st.writeBytesPerSecond);
  if (!inputs.checkpointAsync) return { bytes: inputs.checkpointBytes, writeSeconds, pauseSeconds: writeSeconds, backgroundSeconds: 0, loadSeconds };
  if (fmt.asyncSnapshotBandwidth === undefined) {
    throw new UserError('training.checkpointAsync needs the device-to-host snapshot rate', undefined, 'failures.checkpoint.asyncSnapshotBandwidth', 'set it in the failure profile, e.g. "25 GB/s" per GPU');
  }
  // Async (e.g. torch DCP async_save, MegaScale's two-stage save): the job pauses while each GPU
  // copies its shard to host memory, then the host writes it out while training continues.
  const pauseSeconds = fmt.saveOverhead + inputs.checkpointBytes / inputs.gpus / fmt.asyncSnapshotBandwidth;
  return { bytes: inputs.checkpointBytes, writeSeconds, pauseSeconds, backgroundSeconds: dataSeconds, loadSeconds };
}

/** Restart time: relaunch, communicator init growing with job size, and the checkpoint load. */
export function restartCosts(inputs: RunInputs, ckpt: CheckpointCosts): { seconds: number; relaunchSeconds: number; initSeconds: number; loadSeconds: number } {
  const rec = inputs.failures.recovery;
  const initSeconds = rec.init * Math.pow(inputs.gpus / rec.referenceGpus, rec.initExponent);
  return { seconds: rec.relaunch + initSeconds + ckpt.loadSeconds, relaunchSeconds: rec.relaunch, initSeconds, loadSeconds: ckpt.loadSeconds };
}

/** Job-level components: rates per second for this job, nodes each fault takes out. */
export function modelComponents(inputs: RunInputs): ModelComponent[] {
  const p = inputs.failures;
  return p.components.map((c) => {
    const exposure = c.per === 'gpu-hour' ? inputs.gpus : c.per === 'node-hour' ? inputs.nodes : 1;
    const nodesOut = !c.replaceNode ? 0 : c.scope === 'switch' ? Math.min(inputs.nodes, c.nodesPerSwitch ?? inputs.nodesPerSwitch) : 1;
    return {
      name: c.name,
      category: c.category ?? (c.planned ? 'Planned' : 'Other'),
      planned: c.planned,
      ratePerSecond: (c.rate * exposure) / 3600,
      shape: c.distribution === 'weibull' ? (c.weibullShape as number) : 1,
      detectSeconds: c.detect,
      downtimeSeconds: c.downtime,
      nodesOut,
      repairSeconds: c.repair ?? p.recovery.repair,
    };
  });
}

/** Young's (1974) and Daly's (2006, eq. 37) optimal checkpoint intervals for save cost `c` and MTBF `m` (seconds). */
export function youngDaly(c: number, m: number): { young: number; daly: number } {
  const young = Math.sqrt(2 * c * m);
  const daly = c < 2 * m ? Math.sqrt(2 * c * m) * (1 + Math.sqrt(c / (2 * m)) / 3 + c / (2 * m) / 9) - c : m;
  return { young, daly };
}

/** The run, before an interval is chosen. */
export interface RunPlan {
  inputs: RunInputs;
  trials: number;
  seed: Seed;
  horizon: boolean;
  base: Omit<RunModel, 'intervalSeconds'>;
  ckpt: CheckpointCosts;
  restart: ReturnType<typeof restartCosts>;
  /** Mean seconds between unexpected interruptions (Infinity without failures). */
  mtbfSeconds: number;
  young: number | null;
  daly: number | null;
  /** Interval in whole steps, and where it came from; the optimizer may replace it. */
  intervalSteps: number;
  source: FailureSummary['checkpoint']['source'];
}

const MAX_TRIALS = 10_000_000;

/** Validates options and derives costs, rates and the starting checkpoint interval. */
/** Largest expected number of interruptions across all trials of one Monte Carlo (~10-20 s of work). */
export const MAX_EXPECTED_INTERRUPTIONS = 1e8;

export function planRun(inputs: RunInputs, options: SimulateOptions = {}): RunPlan {
  const trials = options.trials ?? 1000;
  if (!(Number.isInteger(trials) && trials >= 1 && trials <= MAX_TRIALS)) throw new UserError(`trials must be a whole number from 1 to ${MAX_TRIALS.toLocaleString('en-US')}, got ${trials}`, undefined, '--trials');
  const seed = options.seed ?? 1;
  invariant(inputs.stepSeconds > 0 && Number.isFinite(inputs.stepSeconds), `step time must be positive, got ${inputs.stepSeconds}`);
  invariant(inputs.tokensPerStep > 0, 'tokens per step must be positive');
  const horizon = options.horizonSeconds !== undefined;
  if (horizon && !(options.horizonSeconds! > 0 && Number.isFinite(options.horizonSeconds!))) throw new UserError(`the horizon must be a positive duration, got ${options.horizonSeconds}`, undefined, '--horizon');
  const steps = Math.ceil(inputs.totalTokens / inputs.tokensPerStep);
  const workSeconds = horizon ? Infinity : steps * inputs.stepSeconds;
  const ckpt = checkpointCosts(inputs);
  const restart = restartCosts(inputs, ckpt);
  const components = modelComponents(inputs);
  const unexpectedRate = components.reduce((s, c) => s + (c.planned ? 0 : c.ratePerSecond), 0);
  const mtbfSeconds = unexpectedRate > 0 ? 1 / unexpectedRate : Infinity;
  const yd = Number.isFinite(mtbfSeconds) && ckpt.pauseSeconds > 0 ? youngDaly(ckpt.pauseSeconds, mtbfSeconds) : null;
  const span = horizon ? options.horizonSeconds! : workSeconds;
  // Each interruption is a few events: bound the expected count so an absurd horizon or token
  // budget is refused at once instead of simulating for hours.
  const totalRate = components.reduce((s, c) => s + c.ratePerSecond, 0);
  const expectedEvents = totalRate * span * trials;
  if (expectedEvents > MAX_EXPECTED_INTERRUPTIONS) {
    throw new UserError(
      `would simulate about ${Math.round(expectedEvents).toExponential(1)} interruptions (${trials} trials × ${(span / 86400).toFixed(0)} days at ${(totalRate * 86400).toFixed(1)} per day); the limit is ${MAX_EXPECTED_INTERRUPTIONS.toExponential(0)}`,
      undefined,
      horizon ? '--horizon' : 'training.totalTokens',
      'use fewer trials, a shorter --horizon or a smaller token budget',
    );
  }

  let seconds: number;
  let source: RunPlan['source'];
  if (options.checkpointIntervalSeconds !== undefined) {
    if (!(options.checkpointIntervalSeconds > 0)) throw new UserError(`the checkpoint interval must be positive, got ${options.checkpointIntervalSeconds}`, undefined, '--checkpoint-interval');
    [seconds, source] = [options.checkpointIntervalSeconds, 'option'];
  } else if (inputs.checkpointIntervalSeconds !== undefined) {
    [seconds, source] = [inputs.checkpointIntervalSeconds, 'scenario'];
  } else if (yd) {
    [seconds, source] = [yd.daly, 'young-daly'];
  } else {
    // Nothing fails (or saving is free): one save would never be needed.
    [seconds, source] = [span, 'none'];
  }
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
    spareNodes: inputs.spareNodes,
    components,
  };
  const plan: RunPlan = { inputs, trials, seed, horizon, base, ckpt, restart, mtbfSeconds, young: yd?.young ?? null, daly: yd?.daly ?? null, intervalSteps: 1, source };
  plan.intervalSteps = toSteps(plan, seconds);
  return plan;
}

/** Interval in whole steps: at least one step, and (async) no shorter than the background write. */
function toSteps(plan: RunPlan, seconds: number): number {
  const step = plan.base.stepSeconds;
  const cap = Number.isFinite(plan.base.workSeconds) ? Math.ceil(plan.base.workSeconds / step) : Math.ceil(Math.max(seconds, plan.base.horizonSeconds) / step);
  const minSteps = Math.max(1, Math.ceil(plan.base.backgroundSeconds / step - 1e-9));
  return Math.min(Math.max(minSteps, Math.round(seconds / step)), Math.max(minSteps, cap));
}

/** The engine model at `intervalSteps`. */
export function modelAt(plan: RunPlan, intervalSteps: number): RunModel {
  return { ...plan.base, intervalSeconds: intervalSteps * plan.base.stepSeconds };
}

/** Runs trials [0, n) of a model; may be synchronous (in-process) or use worker threads. */
export type TrialBatchRunner<R> = (model: RunModel, seed: Seed, n: number, onDone: (trials: number) => void) => R;

/** Optimizer score of a batch: mean goodput in horizon mode, minus mean wall time for a full run. */
function score(plan: RunPlan, model: RunModel, rows: Float64Array, n: number): number {
  const w = rowWidth(model);
  let s = 0;
  for (let t = 0; t < n; t++) s += plan.horizon ? rows[t * w + F.useful] / rows[t * w + F.wall] : -rows[t * w + F.wall];
  return s / n;
}

/** Mean goodput of a batch. */
function meanGoodput(model: RunModel, rows: Float64Array, n: number): number {
  const w = rowWidth(model);
  let s = 0;
  for (let t = 0; t < n; t++) s += rows[t * w + F.useful] / rows[t * w + F.wall];
  return s / n;
}

/** Trials per candidate while searching the interval (same trial seeds for all: common random numbers). */
export function optimizeTrials(plan: RunPlan): number {
  return Math.min(plan.trials, 250);
}

/** Upper bound on candidates the search evaluates (for progress bars). */
export const MAX_CANDIDATES = 9 + 8;

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

/** Builds the summary from trial rows (row-major, trial order). */
export function summarize(plan: RunPlan, model: RunModel, rows: Float64Array, optimum: FailureSummary['checkpoint']['optimum'], bins = 20): FailureSummary {
  const n = plan.trials;
  const w = rowWidth(model);
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
  const gpuHours = plan.inputs.gpus / 3600;
  const wall = col(F.wall);
  const useful = col(F.useful);
  const days = wall.map((s) => s / 86400);
  const meanWall = mean(wall);
  const comps = model.components;
  const unexpected = new Float64Array(n);
  const planned = new Float64Array(n);
  const byComponent: Record<string, ComponentSummary> = {};
  comps.forEach((c, i) => {
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
  const h = histogram(days, bins);
  const notes: string[] = [];
  const meanUnexpected = mean(unexpected);
  if (trialsWaited > 0) {
    notes.push(`the spare pool (${plan.inputs.spareNodes} nodes) ran empty in ${(100 * trialsWaited).toFixed(1)}% of trials: the job waited ${(mean(col(F.wait)) / 3600).toFixed(2)} h on average for repairs; peak nodes out p99 ${percentile(peakSorted, 99).toFixed(0)}`);
  }
  if (!plan.horizon && finished < n) notes.push(`${n - finished} of ${n} trials did not finish within ${(plan.base.maxWallSeconds / 86400).toFixed(0)} days (failures outpace progress); their days are the cap`);
  if (plan.ckpt.pauseSeconds > 0.5 * model.intervalSeconds) notes.push(`checkpoint pause ${plan.ckpt.pauseSeconds.toFixed(1)} s is large against the interval ${model.intervalSeconds.toFixed(0)} s`);
  return {
    trials: n,
    seed: String(plan.seed),
    mode: plan.horizon ? 'horizon' : 'run',
    horizonDays: plan.horizon ? plan.base.horizonSeconds / 86400 : null,
    finishedTrials: plan.horizon ? 0 : finished,
    days: { ...dist(days), ideal: (plan.horizon ? plan.base.horizonSeconds : plan.base.workSeconds) / 86400 },
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
      spareNodes: plan.inputs.spareNodes,
      nodesReplaced: mean(col(F.nodesReplaced)),
      peakNodesOut: { mean: mean(peak), p99: percentile(peakSorted, 99), max: peakSorted[n - 1] },
      trialsWaited,
      waitHours: mean(col(F.wait)) / 3600,
    },
    checkpoint: {
      intervalSeconds: model.intervalSeconds,
      intervalSteps: Math.round(model.intervalSeconds / model.stepSeconds),
      source: optimum ? 'optimized' : plan.source,
      youngSeconds: plan.young,
      dalySeconds: plan.daly,
      async: plan.inputs.checkpointAsync,
      bytes: plan.ckpt.bytes,
      writeSeconds: plan.ckpt.writeSeconds,
      pauseSeconds: plan.ckpt.pauseSeconds,
      backgroundSeconds: plan.ckpt.backgroundSeconds,
      savesPerTrial: mean(col(F.checkpoints)),
      optimum,
    },
    restart: plan.restart,
    tokens: (mean(useful) / plan.inputs.stepSeconds) * plan.inputs.tokensPerStep,
    histogram: { unit: 'days', edges: h.edges, counts: h.counts },
    notes,
  };
}

/** Drives intervalSearch with a synchronous or asynchronous batch evaluator. */
function searchDriver(plan: RunPlan) {
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
    result(): { steps: number; optimum: NonNullable<FailureSummary['checkpoint']['optimum']> } {
      invariant(step.done, 'interval search not finished');
      const steps = step.value;
      const seconds = steps * plan.base.stepSeconds;
      const sortedCandidates = candidates.sort((a, b) => a.intervalSeconds - b.intervalSeconds);
      return { steps, optimum: { intervalSeconds: seconds, goodput: sortedCandidates.find((c) => c.intervalSeconds === seconds)!.goodput, candidates: sortedCandidates } };
    },
  };
}

/** Runs the whole flow (optional interval search, then all trials) on a batch runner. */
export function* simulateFlow(plan: RunPlan, options: SimulateOptions): Generator<{ model: RunModel; n: number; phase: Progress['phase'] }, FailureSummary, Float64Array> {
  let steps = plan.intervalSteps;
  let optimum: FailureSummary['checkpoint']['optimum'] = null;
  if (options.optimize && Number.isFinite(plan.mtbfSeconds)) {
    const search = searchDriver(plan);
    const n = optimizeTrials(plan);
    for (let c = search.next(); c !== undefined; c = search.next()) {
      const model = modelAt(plan, c);
      const rows = yield { model, n, phase: 'optimize' };
      search.report(model, rows, n);
    }
    ({ steps, optimum } = search.result());
  }
  const model = modelAt(plan, steps);
  const rows = yield { model, n: plan.trials, phase: 'simulate' };
  return summarize(plan, model, rows, optimum, options.histogramBins);
}

/** Progress reporter over the flow: optimize candidates are bounded by MAX_CANDIDATES. */
export function progressTotals(plan: RunPlan, options: SimulateOptions): Record<Progress['phase'], number> {
  return { optimize: options.optimize && Number.isFinite(plan.mtbfSeconds) ? MAX_CANDIDATES * optimizeTrials(plan) : 0, simulate: plan.trials };
}

/** In-process batch runner, in chunks so progress can be reported. */
function runInProcess(model: RunModel, seed: Seed, n: number, onDone: (trials: number) => void): Float64Array {
  const w = rowWidth(model);
  const out = new Float64Array(n * w);
  const chunk = 256;
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    out.set(runTrialRange(model, seed, s, e), s * w);
    onDone(e - s);
  }
  return out;
}

/** Monte Carlo of the run in this thread: days, interruptions, lost GPU-hours, goodput, checkpoint interval. */
export function simulateRun(inputs: RunInputs, options: SimulateOptions = {}): FailureSummary {
  const plan = planRun(inputs, options);
  const totals = progressTotals(plan, options);
  const done = { optimize: 0, simulate: 0 };
  const flow = simulateFlow(plan, options);
  let req = flow.next();
  while (!req.done) {
    const { model, n, phase } = req.value;
    const rows = runInProcess(model, plan.seed, n, (k) => {
      done[phase] += k;
      options.onProgress?.({ phase, done: done[phase], total: phase === 'simulate' ? totals.simulate : Math.max(done.optimize, totals.optimize) });
    });
    req = flow.next(rows);
  }
  return req.value;
}

/** Nodes under one lowest-tier switch of the fabric (what a switch fault takes out). */
function nodesPerSwitch(sc: Scenario): number {
  const t = sc.fabric.tiers[0];
  const nodes = t.nodes ?? Math.floor((t.gpus ?? sc.node.gpusPerNode) / sc.node.gpusPerNode);
  return Math.max(1, Math.min(nodes, sc.cluster.nodes));
}

/** Derives the engine's inputs from a resolved scenario and its step time. */
export function runInputsFromScenario(sc: Scenario, evaluation: { step: { seconds: number; tokensPerStep: number } }): RunInputs {
  if (!sc.failures) throw new UserError('the scenario has no failure profile', sc.file, 'cluster.failures', 'add e.g. "failures: llama3-h100" under cluster, or --set cluster.failures=llama3-h100');
  const storage = sc.cluster.storage;
  if (!storage) throw new UserError('checkpoint times need the storage bandwidth', sc.file, 'cluster.storage.writeBandwidth', 'e.g. storage: {writeBandwidth: "2 TB/s"}');
  const params = countParams(sc.model).total;
  const bytesPerParam = sc.failures.checkpoint.bytesPerParam;
  // Each shard is written once (torch DCP de-duplicates replicas), but on restore every
  // data-parallel replica reads its copy of the bf16 weights unless ZeRO-3 shards them too.
  const weightBytes = Math.min(2, bytesPerParam);
  const replicas = sc.plan.zeroStage >= 3 ? 1 : sc.plan.dp;
  return {
    stepSeconds: evaluation.step.seconds,
    tokensPerStep: evaluation.step.tokensPerStep,
    totalTokens: sc.training.totalTokens,
    gpus: sc.cluster.gpus,
    nodes: sc.cluster.nodes,
    gpusPerNode: sc.node.gpusPerNode,
    spareNodes: sc.cluster.spareNodes,
    nodesPerSwitch: nodesPerSwitch(sc),
    checkpointBytes: params * bytesPerParam,
    checkpointReadBytes: params * (bytesPerParam - weightBytes + weightBytes * replicas),
    checkpointAsync: sc.training.checkpointAsync,
    checkpointIntervalSeconds: sc.training.checkpointInterval,
    storage: { writeBytesPerSecond: storage.writeBandwidth, readBytesPerSecond: storage.readBandwidth, perNodeBytesPerSecond: storage.perNodeBandwidth },
    failures: sc.failures,
  };
}

/**
 * A quick Monte Carlo summary for `evaluate` (default 200 trials, seed 1, the scenario's interval
 * or Young/Daly); undefined when the scenario has no failure profile.
 */
export function failureSummaryForEvaluate(sc: Scenario, evaluation: { step: { seconds: number; tokensPerStep: number } }, options: { trials?: number; seed?: Seed } = {}): FailureSummary | undefined {
  if (!sc.failures) return undefined;
  return simulateRun(runInputsFromScenario(sc, evaluation), { trials: options.trials ?? 200, seed: options.seed ?? 1 });
}
