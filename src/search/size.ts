/**
 * Sizing: the smallest cluster of the scenario's hardware that trains the token budget by a
 * deadline, or the fastest one within a budget, each size with its best plan and its days and cost
 * with failures counted at a chosen confidence.
 *
 * What scales with the cluster (space.ts clusterSize): spare nodes in proportion to the scenario's
 * (its spares per job node, rounded up), and the global batch in proportion to the GPUs (the
 * scenario's sequences per GPU), so every size does the same work per GPU and step. The cost
 * counts every billed GPU-hour: job GPUs and spare nodes over the wall-clock time with failures.
 */
import type { Scenario } from '../plan/resolve.js';
import { mergeSearch, type TopEntry } from './merge.js';
import { searchShard, type SearchProgress, type SearchResults } from './search.js';
import { clusterSize, gpuGrid, withGlobalBatches } from './space.js';
import type { SearchPlanChoice } from './search.js';
import { pricePerGpuHour } from '../run/totals.js';
import { formatInt } from '../units/format.js';

export type Confidence = 'mean' | 'p50' | 'p90' | 'p99';

export interface CurvePoint {
  gpus: number;
  /** Mean days with failures (null: no failure profile, nothing fits, or the size cannot meet the goal even without failures, so the run engine was not run). */
  expectedDays: number | null;
  p90Days: number | null;
  /** Billed GPU-hours at the chosen confidence's days, at the price (null without a price or a plan). */
  costUsd: number | null;
  /** Days at the chosen confidence (ideal days where failures were not simulated: a lower bound); null when nothing fits. */
  days: number | null;
  spareNodes: number;
  globalBatchSequences: number;
}

export interface SizeResult {
  scenario: string;
  goal: { deadlineDays: number | null; budgetUsd: number | null; confidence: Confidence; maxGpus: number };
  /** The chosen size, or null when no size up to maxGpus meets the goal. */
  gpus: number | null;
  plan: SearchPlanChoice | null;
  results: SearchResults | null;
  curve: CurvePoint[];
  scaling: { spareNodes: string; globalBatch: string };
  notes: string[];
}

export interface SizeOptions {
  deadlineSeconds?: number;
  budgetUsd?: number;
  maxGpus: number;
  minGpus?: number;
  confidence?: Confidence;
  trials?: number;
  /** Global batches (sequences) searched at every size instead of the batch scaled with the cluster; plans then report plan.globalBatch. */
  globalBatches?: number[];
  onProgress?: (p: { size: number; sizes: number; gpus: number; search?: SearchProgress }) => void;
}

/** Smallest size the curve starts at by default: a sixteenth of the scenario's cluster, at least one node. */
export function defaultMinGpus(sc: Scenario): number {
  return Math.max(sc.node.gpusPerNode, Math.floor(sc.cluster.gpus / 16 / sc.node.gpusPerNode) * sc.node.gpusPerNode);
}

/** Days of a plan at a confidence: the run engine's mean or percentile, else (no failure profile) its ideal days. */
export function daysAt(e: Pick<TopEntry, 'results' | 'detail'>, confidence: Confidence): number {
  const d = e.detail.days;
  return d ? d[confidence] : e.results.idealDays;
}

/** The best plan at every size of the grid (fastest by the closed form, re-ranked by the step and run engines). */
export function sizeCurve(sc: Scenario, options: SizeOptions): { points: CurvePoint[]; best: (TopEntry | null)[] } {
  const confidence = options.confidence ?? 'p90';
  const grid = gpuGrid(options.minGpus ?? defaultMinGpus(sc), options.maxGpus, sc.node.gpusPerNode);
  const deadlineDays = options.deadlineSeconds !== undefined ? options.deadlineSeconds / 86400 : undefined;
  const price = pricePerGpuHour(sc);
  const points: CurvePoint[] = [];
  const best: (TopEntry | null)[] = [];
  let met = -1;
  grid.forEach((g, k) => {
    // With a deadline the curve stops two sizes past the first that meets it.
    if (met >= 0 && k > met + 2) return;
    const size = clusterSize(sc, g, true);
    const billedGpus = g + size.spareNodes * sc.node.gpusPerNode;
    // The run engine only where the goal can be met without failures (they only add days and cost).
    const runEngineWhen = ({ idealDays }: { idealDays: number }) =>
      deadlineDays !== undefined ? idealDays <= deadlineDays : options.budgetUsd === undefined || price === null || billedGpus * idealDays * 24 * price <= options.budgetUsd;
    options.onProgress?.({ size: k, sizes: grid.length, gpus: g });
    const sizes = options.globalBatches ? withGlobalBatches([size], options.globalBatches) : [size];
    const body = searchShard(sc, { sizes, top: 1, pool: 2, trials: options.trials ?? 50, runEngineWhen, reportGlobalBatch: options.globalBatches !== undefined, onProgress: (p) => options.onProgress?.({ size: k, sizes: grid.length, gpus: g, search: p }) });
    const r = mergeSearch([{ clusterplanShard: { kind: 'search', index: 0, count: 1, inputsHash: '' }, ...body, seconds: null }]);
    const e = r.top[0] ?? null;
    const days = e ? daysAt(e, confidence) : null;
    if (met < 0 && deadlineDays !== undefined && days !== null && days <= deadlineDays) met = k;
    const billed = g + size.spareNodes * sc.node.gpusPerNode;
    points.push({
      gpus: g,
      expectedDays: e?.results.expectedDays ?? null,
      p90Days: e?.results.p90Days ?? null,
      costUsd: days === null || price === null ? null : billed * days * 24 * price,
      days,
      spareNodes: size.spareNodes,
      globalBatchSequences: e?.detail.globalBatchSequences ?? size.globalBatchSequences,
    });
    best.push(e);
  });
  return { points, best };
}

/** The smallest size whose days at the confidence meet the deadline (a later deadline never needs more GPUs). */
export function pickForDeadline(points: CurvePoint[], deadlineDays: number): number {
  return points.findIndex((p) => p.days !== null && p.days <= deadlineDays);
}

/** The size with the fewest days whose cost fits the budget, fewer GPUs on a tie (a bigger budget never gives a slower run). */
export function pickForBudget(points: CurvePoint[], budgetUsd: number): number {
  let pick = -1;
  points.forEach((p, k) => {
    if (p.days === null || p.costUsd === null || p.costUsd > budgetUsd) return;
    if (pick < 0 || p.days < points[pick].days!) pick = k;
  });
  return pick;
}

/** Runs the sizing study. */
export function sizeCluster(sc: Scenario, options: SizeOptions): SizeResult {
  const confidence = options.confidence ?? 'p90';
  const { points, best } = sizeCurve(sc, options);
  const deadlineDays = options.deadlineSeconds !== undefined ? options.deadlineSeconds / 86400 : null;
  const k = deadlineDays !== null ? pickForDeadline(points, deadlineDays) : pickForBudget(points, options.budgetUsd ?? Infinity);
  const notes: string[] = [];
  if (!sc.failures) notes.push('no failure profile: days are failure-free (ideal)');
  if (k < 0) notes.push(deadlineDays !== null ? `no size up to ${formatInt(options.maxGpus)} GPUs finishes within ${deadlineDays.toFixed(1)} days at ${confidence}; raise --max-gpus` : `no size up to ${formatInt(options.maxGpus)} GPUs fits the budget at ${confidence}`);
  const e = k >= 0 ? best[k] : null;
  const results = e && k >= 0 ? { ...e.results, costUsd: points[k].costUsd } : null;
  return {
    scenario: sc.name,
    goal: { deadlineDays, budgetUsd: options.budgetUsd ?? null, confidence, maxGpus: options.maxGpus },
    gpus: e ? e.gpus : null,
    plan: e ? e.plan : null,
    results,
    curve: points,
    scaling: {
      spareNodes: `in proportion to the job: the scenario's ${sc.cluster.spareNodes} spare nodes per ${formatInt(sc.cluster.nodes)} job nodes, rounded up`,
      globalBatch: options.globalBatches
        ? `chosen at each size from ${options.globalBatches.map((b) => formatInt(b)).join(', ')} sequences (--global-batch)`
        : `in proportion to the GPUs: the scenario's ${formatInt(sc.plan.globalBatchSequences)} sequences on ${formatInt(sc.cluster.gpus)} GPUs (${(sc.plan.globalBatchSequences / sc.cluster.gpus).toPrecision(3)} per GPU), rounded to whole sequences`,
    },
    notes,
  };
}
