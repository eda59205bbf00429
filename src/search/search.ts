/**
 * Layout search: enumerate the plan space (space.ts), prune with memory fit, divisibility and a
 * lower bound on step time (bounds.ts), evaluate the survivors with the closed form, re-rank the
 * best with the discrete-event step and the run engine (failures), and report the top K.
 *
 * The work is split into shards by candidate index (index mod n) so a study can run on many
 * machines; a whole run is shard 0 of 1 followed by the same merge (merge.ts), so a sharded and
 * merged study prints exactly what one run prints. For that, every pruning decision is the same in
 * every shard: the bound threshold comes from a seed set that every shard evaluates alike (the 2R
 * candidates with the lowest bounds that fit in memory), never from a shard's own running best.
 */
import { UserError } from '../errors.js';
import type { Scenario } from '../plan/resolve.js';
import { estimateMemory } from '../plan/memory.js';
import { stepCosts } from '../step/costs.js';
import { analyticStep } from '../step/analytic.js';
import type { StepBreakdown } from '../step/result.js';
import { evaluateDetailed } from '../run/evaluate.js';
import { pricePerGpuHour } from '../run/totals.js';
import { runInputsFromScenario } from '../run/inputs.js';
import { simulateRun } from '../run/monte-carlo.js';
import { enumerateAll, type Candidate, type ClusterSize, type Fixes, type PlanChoice } from './space.js';
import { Bounds, candidateScenario } from './bounds.js';
import { formatInt } from '../units/format.js';

export type Objective = 'time' | 'cost' | 'p90-days';

export interface SearchOptions {
  sizes: ClusterSize[];
  fixes?: Fixes;
  /** Plans reported (K). */
  top?: number;
  objective?: Objective;
  /** Plans re-ranked with the step and run engines (default poolSize(top)). */
  pool?: number;
  /** Monte Carlo trials of the run engine per re-ranked plan (seed 1). */
  trials?: number;
  /** Report each plan's global batch (plan.globalBatch, in sequences): set when the study varies or fixes the batch (--global-batch). */
  reportGlobalBatch?: boolean;
  /** Keep tp inside one NVLink domain (default true). */
  nvlinkOnly?: boolean;
  shard?: { index: number; count: number };
  /** Whether a re-ranked plan needs the run engine at all (default: always); sizing skips sizes that cannot meet its goal even without failures. */
  runEngineWhen?: (plan: { gpus: number; idealDays: number }) => boolean;
  onProgress?: (p: SearchProgress) => void;
}

export interface SearchProgress {
  phase: 'bound' | 'evaluate' | 'rerank';
  enumerated: number;
  pruned: number;
  evaluated: number;
  done: number;
  total: number;
}

/** The `results` object of a search entry (the JSON keys). */
export interface SearchResults {
  stepSeconds: number;
  mfu: number;
  idealDays: number;
  /** Mean wall-clock days with failures, restarts and checkpoints (run engine); null without a failure profile. */
  expectedDays: number | null;
  p90Days: number | null;
  /** GPU-hours billed: job GPUs plus spare nodes, over the expected (else ideal) wall-clock time. */
  gpuHours: number;
  /** gpuHours at the price per GPU-hour; null when no price is set. */
  costUsd: number | null;
  memoryPerGpuBytes: number;
}

/** What the `why` line and the report read besides the results. */
export interface SearchDetail {
  engine: 'des' | 'analytic';
  closedFormStepSeconds: number;
  memoryCapacityBytes: number;
  memoryHeadroomBytes: number;
  peakStage: number;
  bubbleFraction: number;
  breakdown: StepBreakdown;
  /** Wall-clock days with failures (run engine): mean and percentiles; null without a failure profile. */
  days: { mean: number; p50: number; p90: number; p99: number } | null;
  /** Share of compute spent re-running the forward (1 - MFU/HFU). */
  recomputeSeconds: number;
  energyMWh: number;
  spareNodes: number;
  globalBatchSequences: number;
}

/** A reported plan's choices: the layout, and the global batch in sequences when the study chose it (reportGlobalBatch). */
export type SearchPlanChoice = PlanChoice & { globalBatch?: number };

/** One re-ranked plan, as shards carry it. */
export interface PoolEntry {
  index: number;
  gpus: number;
  /** The failure-free objective from the closed form: what the pool is chosen by. */
  proxy: number;
  /** The objective from the step engine and the run engine: what the top K are ranked by. */
  objectiveValue: number;
  plan: SearchPlanChoice;
  results: SearchResults;
  detail: SearchDetail;
}

/** A plan that does not fit, kept in case nothing fits. */
export interface Miss {
  index: number;
  gpus: number;
  plan: SearchPlanChoice;
  /** Lower bound of the excess (what misses are ranked by, identically in every shard). */
  excessBytesLowerBound: number;
  memoryPerGpuBytes: number;
  capacityBytes: number;
  peakStage: number;
  /** The largest parts of the peak stage's memory. */
  largest: { part: string; bytes: number }[];
}

export interface CandidateCounts {
  enumerated: number;
  pruned: number;
  evaluated: number;
  prunedBy: { bound: number; memory: number; layout: number };
}

/** One shard's findings: its candidates' counts, its best R plans re-ranked, its closest misses. */
export interface SearchShardBody {
  scenario: string;
  objective: Objective;
  top: number;
  pool: number;
  gpus: number[];
  /** The global batches searched (sequences), when the study chose them (reportGlobalBatch). */
  globalBatches?: number[];
  candidates: CandidateCounts;
  entries: PoolEntry[];
  misses: Miss[];
  notes: string[];
}

/** Plans re-ranked with the step and run engines: the K reported and a few more, so the re-ranking can reorder them. */
export const poolSize = (k: number) => k + 5;
const MISSES = 3;

type Outcome = { kind: 'layout' } | { kind: 'memory'; excessLb: number } | { kind: 'ok'; proxy: number; stepSeconds: number };

const byProxy = (a: { proxy: number; index: number }, b: { proxy: number; index: number }) => a.proxy - b.proxy || a.index - b.index;

/** Runs one shard of a layout search (the whole search when shard is 0 of 1). */
export function searchShard(sc: Scenario, options: SearchOptions): SearchShardBody {
  const K = options.top ?? 10;
  const R = options.pool ?? poolSize(K);
  const objective = options.objective ?? 'time';
  const shard = options.shard ?? { index: 0, count: 1 };
  const trials = options.trials ?? 100;
  const price = pricePerGpuHour(sc);
  if (objective === 'cost' && price === null) throw new UserError('price not set: the cost objective needs a price', sc.file, 'cluster.pricePerGpuHour', 'set cluster.pricePerGpuHour or the GPU profile’s pricePerGpuHour');
  if (objective === 'p90-days' && !sc.failures) throw new UserError('the p90-days objective needs a failure profile', sc.file, 'cluster.failures', 'e.g. --set cluster.failures=llama3-h100');
  // Sizes by GPUs, then by global batch (a study may search several batches per cluster size).
  const bySize = new Map<number, Map<number, ClusterSize>>();
  for (const s of options.sizes) {
    if (!bySize.has(s.gpus)) bySize.set(s.gpus, new Map());
    bySize.get(s.gpus)!.set(s.globalBatchSequences, s);
  }
  const sizeOf = (c: Candidate) => bySize.get(c.gpus)!.get(c.globalBatchSequences)!;
  const reportBatch = options.reportGlobalBatch ?? false;
  const gpusPerNode = sc.node.gpusPerNode;
  const bounds = new Bounds(sc);
  const progress = options.onProgress;

  // Failure-free objective from a step time: ideal days, or the ideal cost of the job and its spares.
  const steps = (c: Candidate) => Math.ceil(sc.training.totalTokens / (c.globalBatchSequences * sc.model.seqLen));
  const proxyOf = (c: Candidate, stepSeconds: number) => {
    const days = (steps(c) * stepSeconds) / 86400;
    if (objective !== 'cost') return days;
    return (c.gpus + sizeOf(c).spareNodes * gpusPerNode) * days * 24 * (price ?? 0);
  };

  const cands = enumerateAll(sc, options.sizes, options.fixes ?? {}, options.nvlinkOnly ?? true);
  const n = cands.length;
  const capacity = sc.gpu.hbm.capacity;
  // Memory first (no step costs needed), then the step-time bound of what may fit.
  const memLb = new Float64Array(n);
  const lb = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    memLb[i] = bounds.memoryBytesLowerBound(cands[i]);
    lb[i] = memLb[i] > capacity ? Infinity : proxyOf(cands[i], bounds.pipelineSecondsLowerBound(cands[i]));
    if (progress && (i & 4095) === 0) progress({ phase: 'bound', enumerated: i, pruned: 0, evaluated: 0, done: i, total: n });
  }

  const cache = new Map<number, Outcome>();
  const evaluateOne = (i: number): Outcome => {
    const hit = cache.get(i);
    if (hit) return hit;
    const c = cands[i];
    let out: Outcome;
    if (memLb[i] > capacity) out = { kind: 'memory', excessLb: memLb[i] - capacity };
    else {
      const { scenario } = candidateScenario(sc, c, sizeOf(c));
      if (!scenario) out = { kind: 'layout' };
      else {
        const mem = estimateMemory(scenario.model, scenario.plan, scenario.gpu);
        if (mem.perGpuBytes > mem.capacityBytes) out = { kind: 'memory', excessLb: memLb[i] - capacity };
        else {
          const stepSeconds = analyticStep(scenario, stepCosts(scenario)).stepSeconds;
          out = { kind: 'ok', stepSeconds, proxy: proxyOf(c, stepSeconds) };
        }
      }
    }
    cache.set(i, out);
    return out;
  };

  // Seed: the 2R candidates with the lowest bounds that fit; the R-th best of them bounds the
  // pool from above, identically in every shard. Candidates are taken in order of the full bound,
  // refining the cheap pipeline bound lazily (best first: the cheap bound never exceeds the full).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lb[a] - lb[b] || a - b);
  const fullLb = new Map<number, number>();
  const refined: [number, number][] = []; // [full bound, index], ascending
  const before = (a: [number, number], b: [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  const seed: number[] = [];
  let next = 0;
  while (seed.length < 2 * R) {
    const fromOrder: [number, number] | undefined = next < n && lb[order[next]] !== Infinity ? [lb[order[next]], order[next]] : undefined;
    const fromRefined = refined[0];
    if (!fromOrder && !fromRefined) break;
    if (fromOrder && (!fromRefined || before(fromOrder, fromRefined))) {
      next++;
      const i = fromOrder[1];
      const full = proxyOf(cands[i], bounds.stepSecondsLowerBound(cands[i]));
      fullLb.set(i, full);
      const item: [number, number] = [full, i];
      let at = refined.findIndex((r) => before(item, r));
      if (at < 0) at = refined.length;
      refined.splice(at, 0, item);
    } else {
      refined.shift();
      const o = evaluateOne(fromRefined[1]);
      if (o.kind === 'ok') seed.push(o.proxy);
    }
  }
  seed.sort((a, b) => a - b);
  const threshold = seed.length >= R ? seed[R - 1] : Infinity;

  const counts: CandidateCounts = { enumerated: 0, pruned: 0, evaluated: 0, prunedBy: { bound: 0, memory: 0, layout: 0 } };
  const feasible: { index: number; proxy: number }[] = [];
  const misses: { index: number; excessLb: number }[] = [];
  for (let i = shard.index; i < n; i += shard.count) {
    counts.enumerated++;
    if (memLb[i] > capacity) {
      counts.prunedBy.memory++;
      misses.push({ index: i, excessLb: memLb[i] - capacity });
    } else if (lb[i] > threshold || (fullLb.get(i) ?? proxyOf(cands[i], bounds.stepSecondsLowerBound(cands[i]))) > threshold) {
      // The pipeline bound first; the full bound (with stage 0's DP traffic and optimizer) only near the threshold.
      counts.prunedBy.bound++;
    } else {
      const o = evaluateOne(i);
      if (o.kind === 'layout') counts.prunedBy.layout++;
      else if (o.kind === 'memory') {
        counts.prunedBy.memory++;
        misses.push({ index: i, excessLb: o.excessLb });
      } else {
        counts.evaluated++;
        feasible.push({ index: i, proxy: o.proxy });
      }
    }
    if (progress && (counts.enumerated & 1023) === 0) progress({ phase: 'evaluate', enumerated: counts.enumerated, pruned: counts.enumerated - counts.evaluated, evaluated: counts.evaluated, done: i, total: n });
  }
  counts.pruned = counts.prunedBy.bound + counts.prunedBy.memory + counts.prunedBy.layout;

  feasible.sort(byProxy);
  const pool = feasible.slice(0, R);
  const notes: string[] = [];
  const entries = pool.map((p, k) => {
    progress?.({ phase: 'rerank', enumerated: counts.enumerated, pruned: counts.pruned, evaluated: counts.evaluated, done: k, total: pool.length });
    return rerank(sc, cands[p.index], sizeOf(cands[p.index]), p.proxy, objective, trials, notes, options.runEngineWhen, reportBatch);
  });

  misses.sort((a, b) => a.excessLb - b.excessLb || a.index - b.index);
  const closest = misses.slice(0, MISSES).map((m) => describeMiss(sc, cands[m.index], sizeOf(cands[m.index]), m.index, m.excessLb, reportBatch));
  const batches = [...new Set(options.sizes.map((s) => s.globalBatchSequences))].sort((a, b) => a - b);
  if (reportBatch && batches.length > 1) notes.push(`global batch ${batches.map((b) => formatInt(b)).join(', ')} sequences: days count the scenario's token budget at each batch; the search does not model a batch's effect on convergence (a larger batch may need more tokens)`);
  return {
    scenario: sc.name,
    objective,
    top: K,
    pool: R,
    gpus: [...new Set(options.sizes.map((s) => s.gpus))],
    ...(reportBatch ? { globalBatches: batches } : {}),
    candidates: counts,
    entries,
    misses: closest,
    notes: [...new Set(notes)],
  };
}

/** Evaluates one pooled plan with the scenario's step engine and, with a failure profile, the run engine. */
function rerank(sc: Scenario, c: Candidate, size: ClusterSize, proxy: number, objective: Objective, trials: number, notes: string[], when: SearchOptions['runEngineWhen'], reportBatch: boolean): PoolEntry {
  const { scenario } = candidateScenario(sc, c, size);
  if (!scenario) throw new Error('internal: a pooled candidate no longer resolves');
  const { evaluation: ev } = evaluateDetailed(scenario, { engine: sc.simulation.engine });
  let expectedDays: number | null = null;
  let p90Days: number | null = null;
  let days: SearchDetail['days'] = null;
  const wanted = when ? when({ gpus: c.gpus, idealDays: ev.run.idealDays }) : true;
  if (!wanted) {
    // The caller knows the answer without failures (they only add time).
  } else if (scenario.failures && scenario.cluster.storage) {
    const f = simulateRun(runInputsFromScenario(scenario, ev), { trials, seed: 1 });
    expectedDays = f.days.mean;
    p90Days = f.days.p90;
    days = { mean: f.days.mean, p50: f.days.p50, p90: f.days.p90, p99: f.days.p99 };
  } else notes.push(scenario.failures ? 'no checkpoint storage bandwidth: days are failure-free' : 'no failure profile: expected and p90 days are not computed; cost counts ideal days');
  const price = pricePerGpuHour(sc);
  const billedGpus = size.gpus + size.spareNodes * sc.node.gpusPerNode;
  const gpuHours = billedGpus * (expectedDays ?? ev.run.idealDays) * 24;
  const results: SearchResults = {
    stepSeconds: ev.step.seconds,
    mfu: ev.throughput.mfu,
    idealDays: ev.run.idealDays,
    expectedDays,
    p90Days,
    gpuHours,
    costUsd: price === null ? null : gpuHours * price,
    memoryPerGpuBytes: ev.memory.perGpuBytes,
  };
  const objectiveValue = objective === 'time' ? results.idealDays : objective === 'cost' ? results.costUsd! : results.p90Days!;
  const b = ev.step.breakdown;
  return {
    index: c.index,
    gpus: c.gpus,
    proxy,
    objectiveValue,
    plan: planChoice(c, reportBatch),
    results,
    detail: {
      engine: ev.engine,
      closedFormStepSeconds: ev.step.analyticSeconds,
      memoryCapacityBytes: ev.memory.capacityBytes,
      memoryHeadroomBytes: ev.memory.capacityBytes - ev.memory.perGpuBytes,
      peakStage: ev.memory.peakStage,
      bubbleFraction: ev.step.bubbleFraction,
      breakdown: b,
      days,
      recomputeSeconds: ev.throughput.hfu > 0 ? b.computeSeconds * (1 - ev.throughput.mfu / ev.throughput.hfu) : 0,
      energyMWh: ev.run.energyMWh,
      spareNodes: size.spareNodes,
      globalBatchSequences: c.globalBatchSequences,
    },
  };
}

const PART_NAMES: Record<string, string> = {
  weightsBytes: 'weights', gradientsBytes: 'gradients', optimizerBytes: 'optimizer state', activationsBytes: 'activations',
  logitsBytes: 'logits', transientBytes: 'working buffers', frameworkBytes: 'framework reserve', fragmentationBytes: 'fragmentation',
};

/** A candidate's choices as a search reports them (plan.globalBatch only when the study chose the batch). */
function planChoice(c: Candidate, reportBatch: boolean): SearchPlanChoice {
  const { index: _i, gpus: _g, globalBatchSequences, ...plan } = c;
  return reportBatch ? { ...plan, globalBatch: globalBatchSequences } : plan;
}

function describeMiss(sc: Scenario, c: Candidate, size: ClusterSize, index: number, excessLb: number, reportBatch: boolean): Miss {
  const plan = planChoice(c, reportBatch);
  const { scenario } = candidateScenario(sc, c, size);
  const mem = scenario ? estimateMemory(scenario.model, scenario.plan, scenario.gpu) : null;
  const largest = mem
    ? Object.entries(mem.breakdown)
        .map(([k, v]) => ({ part: PART_NAMES[k] ?? k, bytes: v }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 2)
    : [];
  return {
    index,
    gpus: c.gpus,
    plan,
    excessBytesLowerBound: excessLb,
    memoryPerGpuBytes: mem?.perGpuBytes ?? excessLb + sc.gpu.hbm.capacity,
    capacityBytes: sc.gpu.hbm.capacity,
    peakStage: mem?.peakStage ?? 0,
    largest,
  };
}
