/** The plain outputs of a comparison (no escape codes): the table, CSV and JSON that `clusterplan compare` prints when it is not talking to a terminal. */
import { COLUMNS, planValues, planIntervals, cellText, pendingText, memoryBar, bestPlans, sortPlans, MEMORY_BAR_CELLS, columnWidths, visibleColumns, hiddenColumns, type ComparePlan, type ColumnKey, type Column } from './compare.js';

/** The plain table (no escape codes): every column, `*` on the best value of each, then the plans' problems. */
export function renderCompareTable(plans: readonly ComparePlan[], options: { width?: number; sortKey?: ColumnKey | null; descending?: boolean } = {}): string {
  const cols = options.width ? visibleColumns(plans, options.width, 0) : [...COLUMNS];
  const widths = columnWidths(plans, cols);
  const best = bestPlans(plans);
  const sorted = sortPlans(plans, options.sortKey ?? null, options.descending ?? false);
  const cell = (c: Column, s: string) => (c.better ? s.padStart(widths.get(c.key)!) : s.padEnd(widths.get(c.key)!));
  const out: string[] = [];
  out.push(cols.map((c) => cell(c, c.header)).join(' ').trimEnd());
  for (const p of sorted) {
    if (!planValues(p)) {
      out.push(`${cell(cols[0], cellText(p, cols[0]))} ${pendingText(p)}`);
      continue;
    }
    out.push(
      cols
        .map((c) => {
          let s = cellText(p, c);
          if (c.key === 'memoryPerGpuBytes' && planValues(p)) s += ' ' + memoryBar(p, MEMORY_BAR_CELLS);
          if (c.better) s += best.get(c.key)?.has(p.id) ? '*' : ' ';
          return cell(c, s);
        })
        .join(' ')
        .trimEnd(),
    );
  }
  out.push('');
  out.push('* best among plans that fit in HBM · ! memory over HBM · days with failures from the Monte Carlo (p50, p90)');
  if (plans.some((p) => planIntervals(p))) out.push('±: 80 % interval; a plan whose interval overlaps the best one’s is marked * too (not clearly ordered)');
  const hidden = hiddenColumns(cols);
  if (hidden.length) out.push(`columns left out for the width: ${hidden.map((c) => c.header).join(', ')}`);
  for (const p of sorted) {
    for (const r of p.evaluation?.reasons ?? []) out.push(`${p.name}: ${r}`);
  }
  return out.join('\n') + '\n';
}

/** One plan as a JSON record: its inputs, the table's values in SI units (null where missing), intervals, the full evaluation. */
export function compareRecord(p: ComparePlan): Record<string, unknown> {
  const v = planValues(p);
  const values = v ? { ...v } : null;
  return {
    name: p.name,
    source: p.source,
    overrides: p.sets,
    ...(p.error ? { error: p.error } : {}),
    ...(p.search ? { search: { ...p.search, objective: 'time' } } : {}),
    feasible: v ? v.feasible : false,
    values: values ? (({ name: _n, feasible: _f, ...rest }) => rest)(values) : null,
    ...(planIntervals(p) ? { intervals: planIntervals(p) } : {}),
    evaluation: p.evaluation ?? null,
  };
}

/** The comparison as JSON (`--json`, and the `e` export). */
export function compareJson(plans: readonly ComparePlan[]): string {
  return JSON.stringify({ plans: plans.map(compareRecord) }, null, 2) + '\n';
}

const CSV_KEYS = ['memoryPerGpuBytes', 'hbmBytes', 'stepSeconds', 'mfu', 'tokensPerSecond', 'idealDays', 'p50Days', 'p90Days', 'interruptions', 'gpuHours', 'costUsd', 'energyMWh'] as const;
const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The comparison as CSV: inputs, then the values in SI units at full precision. */
export function compareCsv(plans: readonly ComparePlan[]): string {
  const head = ['name', 'source', 'overrides', 'feasible', 'tp', 'cp', 'pp', 'vpp', 'dp', 'ep', 'zeroStage', 'microBatch', 'recompute', ...CSV_KEYS];
  const rows = plans.map((p) => {
    const v = planValues(p);
    const L = p.evaluation?.layout;
    const lay = L ? [L.tp, L.cp, L.pp, L.vpp, L.dp, L.ep, L.zeroStage, L.microBatch, L.recompute].map(String) : Array(9).fill('');
    const nums = CSV_KEYS.map((k) => (v && v[k] !== null ? String(v[k]) : ''));
    return [p.name, p.source, p.sets.join(' '), v ? String(v.feasible) : 'false', ...lay, ...nums].map(csvField).join(',');
  });
  return [head.join(','), ...rows].join('\n') + '\n';
}
