/**
 * The comparison of plans as data for rendering: one row of values per plan, the columns (header,
 * sort letter, which way is better, the order they drop from narrow terminals), the best value in
 * each column, sorting and the columns a terminal's width leaves. The details and diff views are in
 * compare-views.ts, the plain table / CSV / JSON that `clusterplan compare` prints when it is not
 * talking to a terminal in compare-plain.ts. The Ink screen (src/ui) and the plain outputs read the
 * same rows, so they show the same numbers.
 */
import type { Evaluation } from '../run/evaluate.js';
import type { StepResult } from '../step/result.js';
import type { DesStepResult } from '../step/des/types.js';
import { bar } from './text.js';
import { formatSeconds, formatPercent, formatSi, formatCount, BYTES_PER_GIB, formatWhole } from '../units/format.js';

/** A range a value lies in (e.g. from cross-validated residuals), in the value's own unit. */
export interface Interval {
  low: number;
  high: number;
}

/** One plan of a comparison as it stands: pending until its evaluation arrives, then its Monte Carlo. */
export interface ComparePlan {
  /** Position in the order the plans were given. */
  id: number;
  name: string;
  /** The file the user named (scenario or plan file). */
  source: string;
  /** Overrides applied (`path=value`), from the plan file, --set and --vary. */
  sets: string[];
  evaluation?: Evaluation;
  /** The step engine's own result; the discrete-event one carries the pipeline timeline. */
  step?: StepResult | DesStepResult;
  /** The failure Monte Carlo: still running, done (evaluation.failures set) or not available. */
  failures: 'pending' | 'done' | 'none';
  /** Why the plan could not be evaluated (a layout that does not resolve, say). */
  error?: string;
  /** What a row without an evaluation waits for, when not its evaluation (a search still running). */
  pending?: string;
  /** Where a plan from `--search` came from: its rank in the search of a scenario (objective time). */
  search?: { rank: number; scenario: string };
  /** Intervals of the values that carry one; by default those the evaluation reports (planIntervals). */
  intervals?: Partial<Record<NumericKey, Interval>>;
}

/** The numbers of one evaluated plan, in SI units; null where the Monte Carlo has not answered. */
export interface PlanValues {
  name: string;
  layout: string;
  config: string;
  feasible: boolean;
  memoryPerGpuBytes: number;
  hbmBytes: number;
  stepSeconds: number;
  mfu: number;
  tokensPerSecond: number;
  idealDays: number;
  p50Days: number | null;
  p90Days: number | null;
  interruptions: number | null;
  gpuHours: number;
  /** null: no price set for the GPU or the scenario (shown as "–", never $0). */
  costUsd: number | null;
  energyMWh: number;
}

export type NumericKey = 'memoryPerGpuBytes' | 'stepSeconds' | 'mfu' | 'tokensPerSecond' | 'idealDays' | 'p50Days' | 'p90Days' | 'interruptions' | 'gpuHours' | 'costUsd' | 'energyMWh';
export type ColumnKey = 'name' | 'layout' | 'config' | NumericKey;

export interface Column {
  key: ColumnKey;
  header: string;
  /** Key that sorts by this column. */
  letter: string;
  /** Which way is better; text columns have none and mark no best value. */
  better?: 'low' | 'high';
  /** Columns leave a narrow terminal in increasing order of this rank; 0 never leaves. */
  drop: number;
  /** Longest text a cell shows (longer names are cut). */
  maxWidth?: number;
  format: (x: number) => string;
}

const gib = (b: number) => (b / BYTES_PER_GIB).toFixed(1);
const fixed1 = (x: number) => x.toFixed(1);
/** One decimal from 1 up, two significant digits below (a toy run's 0.00057 days stays visible). */
const small = (x: number) => (x === 0 || Math.abs(x) >= 1 ? x.toFixed(1) : x.toPrecision(2));
/** Thousands separators from 1,000 up, else as `small`. */
const count = (x: number) => (Math.abs(x) >= 1000 ? formatWhole(x) : small(x));
/** K/M/B suffixes from 1,000 up, else as `small`. */
const scaled = (x: number) => (Math.abs(x) >= 1000 ? formatCount(x, x >= 1e6 ? 2 : 1) : small(x));
const text = (x: number) => String(x);

/**
 * The table's columns, in display order. On a narrow terminal they drop in this order (the
 * `drop` rank): energy, GPU-hours, interruptions, ideal days, p50 days, ZeRO/micro-batch/recompute,
 * tokens/s, layout, cost, step time, p90 days, memory, MFU; the name stays.
 */
export const COLUMNS: readonly Column[] = [
  { key: 'name', header: 'plan', letter: 'n', drop: 0, maxWidth: 28, format: text },
  { key: 'layout', header: 'TP·CP·PP(v)·DP·EP', letter: 'l', drop: 8, format: text },
  { key: 'config', header: 'Z mb recomp', letter: 'z', drop: 6, format: text },
  { key: 'memoryPerGpuBytes', header: 'memory/GPU vs HBM', letter: 'm', better: 'low', drop: 12, format: gib },
  { key: 'stepSeconds', header: 'step', letter: 's', better: 'low', drop: 10, format: formatSeconds },
  { key: 'mfu', header: 'MFU', letter: 'u', better: 'high', drop: 13, format: (x) => formatPercent(x) },
  { key: 'tokensPerSecond', header: 'tok/s', letter: 't', better: 'high', drop: 7, format: (x) => formatSi(x, 2) },
  { key: 'idealDays', header: 'ideal d', letter: 'i', better: 'low', drop: 4, format: small },
  { key: 'p50Days', header: 'p50 d', letter: '5', better: 'low', drop: 5, format: small },
  { key: 'p90Days', header: 'p90 d', letter: '9', better: 'low', drop: 11, format: small },
  { key: 'interruptions', header: 'interr', letter: 'x', better: 'low', drop: 3, format: (x) => (x >= 10 ? x.toFixed(0) : small(x)) },
  { key: 'gpuHours', header: 'GPU-h', letter: 'g', better: 'low', drop: 2, format: scaled },
  { key: 'costUsd', header: 'cost', letter: 'c', better: 'low', drop: 9, format: (x) => '$' + scaled(x) },
  { key: 'energyMWh', header: 'MWh', letter: 'w', better: 'low', drop: 1, format: count },
];

export const columnByKey = (key: ColumnKey): Column => COLUMNS.find((c) => c.key === key)!;

/** "TP·CP·PP(vpp)·DP·EP" as numbers, e.g. 8·1·16(8)·128·1. */
export function layoutText(ev: Evaluation): string {
  const L = ev.layout;
  return `${L.tp}·${L.cp}·${L.pp}${L.vpp > 1 ? `(${L.vpp})` : ''}·${L.dp}·${L.ep}`;
}

/** ZeRO stage, micro-batch and recompute policy, e.g. "Z2 mb1 none". */
export function configText(ev: Evaluation): string {
  const r = ev.layout.recompute === 'selective' ? 'sel' : ev.layout.recompute;
  return `Z${ev.layout.zeroStage} mb${ev.layout.microBatch} ${r}`;
}

/** The values of an evaluated plan; undefined while it is pending or when it failed. */
export function planValues(plan: ComparePlan): PlanValues | undefined {
  const ev = plan.evaluation;
  if (!ev) return undefined;
  const f = ev.failures;
  return {
    name: plan.name,
    layout: layoutText(ev),
    config: configText(ev),
    feasible: ev.feasible,
    memoryPerGpuBytes: ev.memory.perGpuBytes,
    hbmBytes: ev.memory.capacityBytes,
    stepSeconds: ev.step.seconds,
    mfu: ev.throughput.mfu,
    tokensPerSecond: ev.throughput.tokensPerSecond,
    idealDays: ev.run.idealDays,
    p50Days: f && f.mode === 'run' ? f.days.p50 : null,
    p90Days: f && f.mode === 'run' ? f.days.p90 : null,
    interruptions: f ? f.interruptions.total.mean : null,
    gpuHours: ev.run.gpuHours,
    costUsd: ev.run.costUsd,
    energyMWh: ev.run.energyMWh,
  };
}

/**
 * The intervals of a plan's values: the plan's own when given, else the 80 % intervals its
 * evaluation reports (issue 16: throughput.interval80 in tokens/s per GPU, run.idealDaysInterval80),
 * carried to the values that scale with them: tokens/s and MFU with the throughput, the step time
 * inversely; GPU-hours, energy and cost with the ideal days (runTotals makes each proportional to
 * the ideal hours). Undefined when there are none.
 */
export function planIntervals(plan: ComparePlan): Partial<Record<NumericKey, Interval>> | undefined {
  if (plan.intervals) return plan.intervals;
  const ev = plan.evaluation;
  if (!ev) return undefined;
  const out: Partial<Record<NumericKey, Interval>> = {};
  const ratio = (iv: [number, number] | undefined, of: number) =>
    iv && of > 0 && Number.isFinite(iv[0]) && Number.isFinite(iv[1]) && iv[0] > 0 && iv[0] <= iv[1] ? { low: iv[0] / of, high: iv[1] / of } : undefined;
  const scale = (x: number, r: Interval): Interval => ({ low: x * r.low, high: x * r.high });
  const t = ratio(ev.throughput.interval80, ev.throughput.tokensPerSecondPerGpu);
  if (t) {
    out.tokensPerSecond = scale(ev.throughput.tokensPerSecond, t);
    out.mfu = scale(ev.throughput.mfu, t);
    out.stepSeconds = { low: ev.step.seconds / t.high, high: ev.step.seconds / t.low };
  }
  const d = ratio(ev.run.idealDaysInterval80, ev.run.idealDays);
  if (d) {
    out.idealDays = scale(ev.run.idealDays, d);
    out.gpuHours = scale(ev.run.gpuHours, d);
    out.energyMWh = scale(ev.run.energyMWh, d);
    if (ev.run.costUsd !== null) out.costUsd = scale(ev.run.costUsd, d);
  }
  return Object.keys(out).length ? out : undefined;
}

/** Whether two plans' values of a column overlap within their intervals (so neither is clearly better). */
export function overlapping(a: ComparePlan, b: ComparePlan, key: NumericKey): boolean {
  const x = columnValue(a, key);
  const y = columnValue(b, key);
  if (typeof x !== 'number' || typeof y !== 'number') return false;
  const ra = rangeOf(a, key, x);
  const rb = rangeOf(b, key, y);
  return ra.low <= rb.high && ra.high >= rb.low;
}

/** A value of a column (a string for the text columns), or null when there is none yet. */
export function columnValue(plan: ComparePlan, key: ColumnKey): number | string | null {
  if (key === 'name') return plan.name;
  const v = planValues(plan);
  return v ? v[key] : null;
}

/** The text of a cell: the formatted value, ± half its interval in percent when it carries one. */
export function cellText(plan: ComparePlan, col: Column): string {
  const v = columnValue(plan, col.key);
  if (v === null) return plan.evaluation && plan.failures === 'pending' ? '…' : plan.evaluation ? '–' : '';
  if (typeof v === 'string') return col.maxWidth && v.length > col.maxWidth ? v.slice(0, col.maxWidth - 1) + '…' : v;
  let s = col.format(v);
  if (col.key === 'memoryPerGpuBytes') s = `${s}/${gib(planValues(plan)!.hbmBytes)} GiB`;
  const iv = planIntervals(plan)?.[col.key as NumericKey];
  if (iv && v !== 0) s += ` ±${((100 * Math.max(iv.high - v, v - iv.low)) / Math.abs(v)).toFixed(0)}%`;
  return s;
}

/** What a row without values says in place of them: that it is still being evaluated, or why it cannot be. */
export function pendingText(plan: ComparePlan): string {
  return plan.error ? `error: ${plan.error}` : plan.pending ?? 'pending: evaluating…';
}

/** Memory per GPU as a share of HBM (over 1 when the plan does not fit). */
export function memoryFraction(plan: ComparePlan): number | null {
  const v = planValues(plan);
  return v ? v.memoryPerGpuBytes / v.hbmBytes : null;
}

/** The memory bar shown beside the memory cell (`[███░░]`, a trailing '!' when over HBM). */
export function memoryBar(plan: ComparePlan, width = 8): string {
  const f = memoryFraction(plan);
  return f === null ? ' '.repeat(width + 3) : bar(f, width);
}

const rangeOf = (plan: ComparePlan, key: NumericKey, v: number): Interval => planIntervals(plan)?.[key] ?? { low: v, high: v };

/**
 * Plans marked best in each numeric column: the best value among plans that fit, and every plan
 * whose interval overlaps the best one's, since those are not clearly ordered.
 */
export function bestPlans(plans: readonly ComparePlan[]): Map<ColumnKey, Set<number>> {
  const out = new Map<ColumnKey, Set<number>>();
  for (const col of COLUMNS) {
    if (!col.better) continue;
    const key = col.key as NumericKey;
    const cands = plans.flatMap((p) => {
      const v = planValues(p);
      const x = v?.[key];
      return v && v.feasible && typeof x === 'number' ? [{ p, x }] : [];
    });
    if (cands.length < 2) continue;
    const best = cands.reduce((a, b) => ((col.better === 'low' ? b.x < a.x : b.x > a.x) ? b : a));
    out.set(col.key, new Set(cands.filter(({ p, x }) => x === best.x || overlapping(p, best.p, key)).map(({ p }) => p.id)));
  }
  return out;
}

/** Plans ordered by a column (input order when key is null); plans without a value go last either way. */
export function sortPlans(plans: readonly ComparePlan[], key: ColumnKey | null, descending: boolean): ComparePlan[] {
  const dir = descending ? -1 : 1;
  return [...plans].sort((a, b) => {
    if (key === null) return dir * (a.id - b.id);
    const x = columnValue(a, key);
    const y = columnValue(b, key);
    if (x === null || y === null) return x === null && y === null ? a.id - b.id : x === null ? 1 : -1;
    const c = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
    return c !== 0 ? dir * c : a.id - b.id;
  });
}

/** Width of the memory bar drawn after the memory cell (plus its brackets and marker). */
export const MEMORY_BAR_CELLS = 8;
const BAR_EXTRA = MEMORY_BAR_CELLS + 4;

/** Display width of each column over the given plans (header or widest cell, the memory bar included). */
export function columnWidths(plans: readonly ComparePlan[], cols: readonly Column[] = COLUMNS): Map<ColumnKey, number> {
  const w = new Map<ColumnKey, number>();
  for (const c of cols) {
    const cells = plans.map((p) => cellText(p, c).length + (c.key === 'memoryPerGpuBytes' && planValues(p) ? BAR_EXTRA : 0));
    // +1 for the best marker (or the sort arrow in the header).
    w.set(c.key, Math.max(c.header.length, ...cells) + (c.key === 'name' ? 0 : 1));
  }
  return w;
}

/** The columns that fit in `width` characters (one space between columns), dropped in the stated order. */
export function visibleColumns(plans: readonly ComparePlan[], width: number, gutter = 2): Column[] {
  const widths = columnWidths(plans);
  let cols = [...COLUMNS];
  const total = (cs: Column[]) => gutter + cs.reduce((s, c) => s + widths.get(c.key)! + 1, 0);
  const order = [...COLUMNS].filter((c) => c.drop > 0).sort((a, b) => a.drop - b.drop);
  for (const c of order) {
    if (total(cols) <= width) break;
    cols = cols.filter((x) => x !== c);
  }
  return cols;
}

/** The columns a narrow terminal left out, for the footer. */
export function hiddenColumns(visible: readonly Column[]): Column[] {
  return COLUMNS.filter((c) => !visible.includes(c));
}
