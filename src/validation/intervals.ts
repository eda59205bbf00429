/**
 * 80 % prediction intervals from cross-validated residuals (issue 16, item 4).
 *
 * A residual is a case's cross-validated throughput error r = predicted / measured - 1 (score.ts
 * `throughputRel`, from `validate --cv source`: the case's own source never shaped its
 * prediction). For a new prediction v the measured value is v / (1 + r); the 80 % interval is
 * [v / (1 + q90), v / (1 + q10)] with q10, q90 the 10th and 90th percentiles of the residuals of
 * comparable cases. Step time and days scale as 1 / throughput: [t (1 + q10), t (1 + q90)].
 *
 * Comparable cases (the pooling rule): the residual table groups cases by GPU generation and by
 * software key (the case's software profile when it names one, else its source). A prediction
 * takes, in order, the first pool with at least MIN_GROUP residuals from at least MIN_SOURCES
 * different sources:
 *   1. same generation and same software key;
 *   2. same generation (every software);
 *   3. every case.
 * Within a pool every SOURCE weighs the same (each of its residuals 1 / its case count), and q10,
 * q90 are weighted quantiles (weightedQuantile). The thing an interval must cover is a run from a
 * source the model has not seen, and sources differ by more than cases of one source do (a
 * source's residuals share its software, its measuring and its reporting): a pool of one or two
 * sources, or one dominated by a source with hundreds of cases, gives the spread WITHIN a source
 * and covers a new source's runs far less than 80 % of the time (61.5 % under `--cv source`
 * with per-case quantiles and no source minimum, issue 16).
 * A prediction the model knows it does not represent (a case or scenario with a `not modelled`
 * setting: schema/software.ts notModelled, e.g. a HybridEP dispatcher, an MXFP8 recipe, attention
 * sinks, a pipeline engine's stack cost) first tries the same three levels over the residuals of
 * NOT-MODELLED cases only (pools `not-modelled ...`, same MIN_GROUP and MIN_SOURCES, the third
 * level too), and falls back to the pools above, over every residual, when none qualifies (the
 * pool name says so). When both qualify, the interval spans both pools' quantiles: not being
 * modelled never makes a prediction MORE certain (measured: with a fp8 recipe flag on
 * llm-foundry's rows the not-modelled pool scattered less than every case did, 12 % wide against
 * 23 %, and covered 26 % of the not-modelled cases). The model's error on such a run includes
 * the effect of what it ignores, which the modelled cases' residuals say nothing about. A modelled prediction pools over EVERY
 * residual, not the modelled ones only: measured under `validate --cv source` (issue 16, 457
 * cases), modelled-only pools covered 65.9 % of the modelled cases with a median interval width
 * of 16.3 % against 80.5 % and 23.9 % with every residual. The other sources' modelled residuals
 * understate how far a new source's runs fall (a source's own scatter is part of what it brings,
 * and a modelled case may still use a setting nobody flagged), so dropping residuals for being
 * not modelled would be a choice the data reject. On the dev files five sources have
 * not-modelled cases (Megatron-Bridge, llm-foundry and FP8-LM's TE 1.x fp8 rows, MT-NLG,
 * GLM-130B), so under `--cv source` a not-modelled case's pool keeps at least MIN_SOURCES of the
 * other four at the all-generations level.
 * The table is data (validation/residuals.json, written by tools/residuals.ts from `validate --cv
 * source`); io/ loads it and passes it in, this module never reads files.
 */
import type { Evaluation } from '../run/evaluate.js';
import { quantile, type CaseResult } from './score.js';
import type { ValidationCase } from './case.js';

/** Fewest residuals a pool needs to give its own quantiles (fewer: pool at the next level). */
export const MIN_GROUP = 8;
/** Fewest different sources a pool needs (fewer: pool at the next level); see the header. */
export const MIN_SOURCES = 3;

/** One cross-validated residual with the keys it is pooled by. */
export interface Residual {
  id: string;
  source: string;
  generation: string;
  software: string;
  /** predicted / measured - 1 of throughput, cross-validated. */
  throughputRel: number;
  /** The settings of the case the model does not represent (score.ts `software.notModelled`); absent or empty: none. */
  notModelled?: string[];
}

export interface ResidualTable {
  about: string;
  /** GPU profile name -> generation (validation/calibration.json), to key a scenario's GPU. */
  generations: Record<string, string>;
  /** How the residuals were produced (`validate --cv source`, engine). */
  method: string;
  residuals: Residual[];
}

/** Where a prediction looks for comparable cases. */
export interface IntervalKey {
  generation: string;
  software: string;
  /** Whether the prediction uses a setting the model does not represent (it then looks in the not-modelled pools first). */
  notModelled?: boolean;
}

export interface ThroughputQuantiles {
  /** 10th and 90th percentiles of r = predicted / measured - 1. */
  q10: number;
  q90: number;
  /**
   * Which pool gave them (`hopper / megatron-core`, `hopper / all software`, `all cases`; with the
   * prefix `not-modelled cases, ` from the not-modelled residuals; a not-modelled prediction that
   * found too few of them says so after the pool) and its size.
   */
  pool: string;
  n: number;
  /** How many sources the pool's residuals come from. */
  sources: number;
}

/**
 * The q-quantile of values with weights: the values sorted, each placed at the middle of its
 * share of the cumulative weight ((W_before + w / 2) / W), linear between those positions and
 * flat beyond the first and last. With equal weights this is Hyndman-Fan type 5 ((k - 0.5) / n).
 */
export function weightedQuantile(values: readonly number[], weights: readonly number[], q: number): number {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const total = weights.reduce((a, w) => a + w, 0);
  let before = 0;
  let prevPos = -Infinity;
  let prevVal = values[order[0]];
  for (const i of order) {
    const pos = (before + weights[i] / 2) / total;
    if (q <= pos) return prevPos === -Infinity ? values[i] : prevVal + ((q - prevPos) / (pos - prevPos)) * (values[i] - prevVal);
    before += weights[i];
    prevPos = pos;
    prevVal = values[i];
  }
  return prevVal;
}

/** The q-quantile of residuals with every source weighing the same (each residual 1 / its source's count in the pool). */
export function sourceWeightedQuantile(group: readonly Residual[], q: number): number {
  const count = new Map<string, number>();
  for (const r of group) count.set(r.source, (count.get(r.source) ?? 0) + 1);
  return weightedQuantile(group.map((r) => r.throughputRel), group.map((r) => 1 / count.get(r.source)!), q);
}

/** Whether a residual's case used a setting the model does not represent. */
export function isNotModelled(r: Residual): boolean {
  return (r.notModelled?.length ?? 0) > 0;
}

/** The pools of one set of residuals, in the order the header gives (label prefix for the not-modelled ones). */
function poolsOf(rs: readonly Residual[], key: IntervalKey, prefix: string): [string, Residual[]][] {
  return [
    [`${prefix}${key.generation} / ${key.software}`, rs.filter((r) => r.generation === key.generation && r.software === key.software)],
    [`${prefix}${key.generation} / all software`, rs.filter((r) => r.generation === key.generation)],
    [prefix ? `${prefix}all generations` : 'all cases', [...rs]],
  ];
}

/**
 * The q10 and q90 of the residuals comparable to `key` (pooling rule in the header); null when
 * the table holds fewer than MIN_GROUP residuals in all. `exclude` leaves residuals out (the
 * cross-validated coverage leaves out the predicted case's own source).
 */
export function residualQuantiles(table: ResidualTable, key: IntervalKey, exclude?: (r: Residual) => boolean): ThroughputQuantiles | null {
  const rs = exclude ? table.residuals.filter((r) => !exclude(r)) : table.residuals;
  const general = firstPool(poolsOf(rs, key, ''));
  if (!key.notModelled) return general ? quantilesOf(general) : null;
  const notModelled = firstPool(poolsOf(rs.filter(isNotModelled), key, 'not-modelled cases, '), true);
  // A not-modelled prediction that found too few not-modelled residuals says so.
  if (!notModelled) return general ? { ...quantilesOf(general), pool: `${general[0]} (too few not-modelled cases)` } : null;
  if (!general) return quantilesOf(notModelled);
  // Not being modelled never makes a prediction more certain: the interval spans both pools'
  // quantiles (the not-modelled cases of other sources can scatter less than every case does).
  const a = quantilesOf(notModelled);
  const b = quantilesOf(general);
  if (a.q10 <= b.q10 && a.q90 >= b.q90) return a;
  const both = new Set([...notModelled[1], ...general[1]]);
  return { q10: Math.min(a.q10, b.q10), q90: Math.max(a.q90, b.q90), pool: `${notModelled[0]}, widened to ${general[0]}`, n: both.size, sources: new Set([...both].map((r) => r.source)).size };
}

/**
 * The first pool with MIN_GROUP residuals from MIN_SOURCES sources; the general pools' last level
 * (every case) needs only MIN_GROUP, the not-modelled pools always need MIN_SOURCES.
 */
function firstPool(pools: [string, Residual[]][], lastNeedsSources = false): [string, Residual[]] | undefined {
  return pools.find(([, group], i) => group.length >= MIN_GROUP && ((!lastNeedsSources && i === pools.length - 1) || new Set(group.map((r) => r.source)).size >= MIN_SOURCES));
}

function quantilesOf([pool, group]: [string, Residual[]]): ThroughputQuantiles {
  return { q10: sourceWeightedQuantile(group, 0.1), q90: sourceWeightedQuantile(group, 0.9), pool, n: group.length, sources: new Set(group.map((r) => r.source)).size };
}

/** The 80 % interval of a predicted throughput (any unit): [v / (1 + q90), v / (1 + q10)]. */
export function throughputInterval(value: number, q: ThroughputQuantiles): [number, number] {
  return [value / (1 + q.q90), value / (1 + q.q10)];
}

/** The 80 % interval of a predicted time (step seconds, days), which scales as 1 / throughput. */
export function timeInterval(value: number, q: ThroughputQuantiles): [number, number] {
  return [value * (1 + q.q10), value * (1 + q.q90)];
}

/** The software key of a case: its software profile name when the case names one, else its source. */
export function softwareKey(c: { software?: unknown; source: { title?: string | null } }, source: string): string {
  const s = c.software;
  if (typeof s === 'string' && s) return s;
  if (s && typeof s === 'object' && typeof (s as { name?: unknown }).name === 'string') return (s as { name: string }).name;
  return source;
}

/**
 * The evaluation with its 80 % intervals (throughput.interval80, step.secondsInterval80,
 * run.idealDaysInterval80) from the residuals comparable to its GPU and software, and to whether
 * it uses a setting the model does not represent (`notModelled`, io/load.ts SoftwareInEffect);
 * unchanged when the table has too few residuals.
 */
export function withIntervals(ev: Evaluation, table: ResidualTable, gpuName: string, software?: string, notModelled: readonly string[] = []): Evaluation {
  const generation = table.generations[gpuName] ?? gpuName;
  const q = residualQuantiles(table, { generation, software: software ?? 'unknown', notModelled: notModelled.length > 0 });
  if (!q) return ev;
  return {
    ...ev,
    step: { ...ev.step, secondsInterval80: timeInterval(ev.step.seconds, q) },
    throughput: { ...ev.throughput, interval80: throughputInterval(ev.throughput.tokensPerSecondPerGpu, q), intervalPool: `${q.pool}, ${q.n} cases from ${q.sources} sources` },
    run: { ...ev.run, idealDaysInterval80: timeInterval(ev.run.idealDays, q) },
  };
}

/** The cross-validated residuals of scored cases (results[i] predicts cases[i]), keyed for pooling. */
export function residualsOf(cases: readonly ValidationCase[], results: readonly CaseResult[], generationOf: (c: ValidationCase) => string): Residual[] {
  return cases.flatMap((c, i) => {
    const r = results[i].errors.throughputRel;
    const nm = results[i].software?.notModelled ?? [];
    return r === null || results[i].skipped ? [] : [{ id: c.id, source: results[i].source, generation: generationOf(c), software: softwareKey(c as never, results[i].source), throughputRel: r, ...(nm.length ? { notModelled: [...nm] } : {}) }];
  });
}

/**
 * Each result with its 80 % throughput interval (predicted.interval80, tokens/s per GPU), from the
 * table's residuals comparable to the case (its `software.notModelled` chooses the not-modelled
 * pools first), leaving out the case's own source: no case's own
 * residual (nor its source's) widens or centres its interval. `held` 'gpu' (leave-one-generation-
 * out) also leaves out every residual of the case's generation: the interval a user planning on a
 * generation with no measured run would get.
 */
export function withCaseIntervals(cases: readonly ValidationCase[], results: readonly CaseResult[], table: ResidualTable, generationOf: (c: ValidationCase) => string, held: 'source' | 'gpu' = 'source'): CaseResult[] {
  return results.map((r, i) => {
    if (!r.predicted) return r;
    const c = cases[i];
    const generation = generationOf(c);
    const exclude = (x: Residual) => x.source === r.source || (held === 'gpu' && x.generation === generation);
    const q = residualQuantiles(table, { generation, software: softwareKey(c as never, r.source), notModelled: (r.software?.notModelled.length ?? 0) > 0 }, exclude);
    return { ...r, predicted: { ...r.predicted, interval80: q ? throughputInterval(r.predicted.tokensPerSecondPerGpu, q) : null } };
  });
}
