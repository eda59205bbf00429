/**
 * The details and diff views of a comparison as styled lines (the Ink screen colours them; plain
 * text drops the styles): memory and step breakdowns, the pipeline timeline, the finish-time
 * histogram, interruptions, and two plans' inputs and outputs side by side.
 */
import type { DesStepResult } from '../step/des/types.js';
import { renderPipelineTimeline } from './timeline.js';
import { histogramLines } from './failures.js';
import { bar } from './text.js';
import { formatGiB, formatSeconds, formatPercent, formatInt } from '../units/format.js';
import { COLUMNS, planIntervals, overlapping, columnValue, cellText, type ComparePlan, type NumericKey } from './compare.js';

const fixed1 = (x: number) => x.toFixed(1);
const text = (x: number) => String(x);

export type Style = 'head' | 'good' | 'bad' | 'dim' | 'changed' | 'key';
export interface Segment {
  text: string;
  style?: Style;
}
export type Line = Segment[];
const seg = (text: string, style?: Style): Segment => (style ? { text, style } : { text });

/** Lines of the details view: memory breakdown, step breakdown, pipeline timeline, finish-time histogram, interruptions. */
export function planDetails(plan: ComparePlan, width: number): Line[] {
  const out: Line[] = [];
  const ev = plan.evaluation;
  out.push([seg(plan.name, 'head'), seg(`  ${plan.source}${plan.sets.length ? '  ' + plan.sets.join(' ') : ''}`, 'dim')]);
  if (!ev) {
    out.push([seg(plan.error ? `error: ${plan.error}` : 'evaluating…', plan.error ? 'bad' : 'dim')]);
    return out;
  }
  const L = ev.layout;
  out.push([seg(`${formatInt(L.gpus)} GPUs · TP${L.tp} CP${L.cp} PP${L.pp}${L.vpp > 1 ? ` (vpp ${L.vpp}, ${L.schedule})` : ''} DP${L.dp} EP${L.ep}`)]);
  out.push([seg(`ZeRO-${L.zeroStage} · ${L.numMicroBatches} micro-batches of ${L.microBatch} · recompute ${L.recompute} · ${L.precision}`)]);
  out.push([]);
  // Label (29) + bar + marker must fit the terminal.
  const barWidth = Math.max(10, Math.min(40, width - 33));
  const m = ev.memory;
  out.push([seg(`Memory per GPU (peak on stage ${m.peakStage})  `, 'head'), seg(`${formatGiB(m.perGpuBytes)} of ${formatGiB(m.capacityBytes)} HBM: `), seg(ev.feasible ? 'fits' : 'DOES NOT FIT', ev.feasible ? 'good' : 'bad')]);
  out.push([seg(`  ${'total'.padEnd(17)}${formatGiB(m.perGpuBytes).padStart(10)}  `), seg(bar(m.perGpuBytes / m.capacityBytes, barWidth), ev.feasible ? 'good' : 'bad')]);
  const b = m.breakdown;
  const mem: [string, number][] = [
    ['weights', b.weightsBytes], ['gradients', b.gradientsBytes], ['optimizer state', b.optimizerBytes], ['activations', b.activationsBytes],
    ['logits', b.logitsBytes], ['working buffers', b.transientBytes], ['framework/NCCL', b.frameworkBytes], ['fragmentation', b.fragmentationBytes],
  ];
  for (const [name, bytes] of mem) if (bytes > 0) out.push([seg(`  ${name.padEnd(17)}${formatGiB(bytes).padStart(10)}  `), seg(bar(bytes / m.capacityBytes, barWidth), 'key')]);
  // Why it does not fit, and what would (evaluate's Problem lines: e.g. the micro-batch group N).
  for (const reason of ev.reasons) out.push([seg('  problem  ', 'bad'), seg(reason)]);
  out.push([]);
  const st = ev.step;
  const d = st.breakdown;
  out.push([seg('Step  ', 'head'), seg(`${formatSeconds(st.seconds)} (${ev.engine === 'des' ? 'discrete-event' : 'closed form'}) · MFU ${formatPercent(ev.throughput.mfu)} · ${ev.throughput.tflopsPerGpu.toFixed(0)} TFLOP/s per GPU`)]);
  const parts: [string, number][] = [
    ['compute', d.computeSeconds], ['exposed TP', d.tpSeconds], ['exposed CP', d.cpSeconds], ['exposed EP', d.epSeconds], ['exposed PP', d.ppSeconds], ['exposed DP', d.dpSeconds],
    ['pipeline bubble', d.bubbleSeconds], ['optimizer', d.optimizerSeconds],
  ];
  for (const [name, s] of parts) if (s > 0 || name === 'compute' || name === 'pipeline bubble') out.push([seg(`  ${name.padEnd(17)}${formatSeconds(s).padStart(10)} ${formatPercent(s / st.seconds).padStart(6)} `), seg(bar(s / st.seconds, barWidth - 7), 'key')]);
  out.push([]);
  out.push([seg('Pipeline of the simulated step (one row per stage)', 'head')]);
  if (plan.step && plan.step.engine === 'des' && 'detail' in plan.step) {
    for (const l of renderPipelineTimeline(plan.step as DesStepResult, Math.max(10, width - 22)).trimEnd().split('\n')) out.push([seg(l)]);
  } else out.push([seg('  closed-form step: no simulated timeline', 'dim')]);
  out.push([]);
  out.push(...failureLines(plan, width));
  for (const n of ev.notes) out.push([seg('Note  ', 'dim'), seg(n, 'dim')]);
  for (const r of ev.reasons) out.push([seg('Problem  ', 'bad'), seg(r, 'bad')]);
  return out;
}

/** Finish-time histogram and interruptions by component from the plan's Monte Carlo. */
function failureLines(plan: ComparePlan, width: number): Line[] {
  const out: Line[] = [];
  const f = plan.evaluation?.failures;
  if (!f) {
    out.push([seg('Failures  ', 'head'), seg(plan.failures === 'pending' ? 'Monte Carlo running…' : 'no failure profile in the scenario: no Monte Carlo', 'dim')]);
    return out;
  }
  out.push([seg(`Finish time, ${f.trials} Monte Carlo trials (days)  `, 'head'), seg(f.mode === 'run' ? `ideal ${fixed1(f.days.ideal)} · p50 ${fixed1(f.days.p50)} · p90 ${fixed1(f.days.p90)} · goodput ${formatPercent(f.goodput.mean)}` : `${fixed1(f.horizonDays ?? 0)}-day window`)]);
  if (f.mode === 'run') {
    // The failures report's histogram, its bar fitted to the screen and its edges to a toy run's thousandths of a day.
    const barWidth = Math.max(10, Math.min(40, width - 40));
    for (const l of histogramLines(f.histogram.edges, f.histogram.counts, f.trials, { barWidth, maxDigits: 6 })) {
      const a = l.indexOf('█');
      const b = l.lastIndexOf('█') + 1;
      out.push(a < 0 ? [seg(l)] : [seg(l.slice(0, a)), seg(l.slice(a, b), 'key'), seg(l.slice(b))]);
    }
  }
  out.push([]);
  const i = f.interruptions;
  out.push([seg('Interruptions by component  ', 'head'), seg(`${fixed1(i.total.mean)} mean (${fixed1(i.unexpected.mean)} unexpected, ${fixed1(i.planned.mean)} planned)`)]);
  const comps = Object.entries(i.byComponent).sort((a, b) => b[1].mean - a[1].mean);
  const nameWidth = Math.max(9, ...comps.map(([n, c]) => n.length + (c.planned ? 10 : 0)));
  out.push([seg(`  ${'component'.padEnd(nameWidth)}  ${'mean'.padStart(7)}  ${'p90'.padStart(7)}`, 'dim')]);
  for (const [name, c] of comps) out.push([seg(`  ${(name + (c.planned ? ' (planned)' : '')).padEnd(nameWidth)}  ${fixed1(c.mean).padStart(7)}  ${fixed1(c.p90).padStart(7)}`)]);
  return out;
}

/** One row of the diff view. */
export interface DiffRow {
  label: string;
  a: string;
  b: string;
  differs: boolean;
  /** Relative change b/a - 1 for numeric outputs. */
  change?: number;
  /** Set when a value carries an interval: true when the two plans' intervals overlap (no clear order). */
  overlaps?: boolean;
}

/** The two plans' inputs and outputs side by side; `differs` marks what changed. */
export function planDiff(a: ComparePlan, b: ComparePlan): { inputs: DiffRow[]; outputs: DiffRow[] } {
  const inRow = (label: string, f: (p: ComparePlan) => string): DiffRow => {
    const x = f(a);
    const y = f(b);
    return { label, a: x, b: y, differs: x !== y };
  };
  const L = (p: ComparePlan) => p.evaluation?.layout;
  const lay = (k: keyof NonNullable<ReturnType<typeof L>>) => (p: ComparePlan) => {
    const v = L(p)?.[k];
    return v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') || 'none' : String(v);
  };
  const inputs: DiffRow[] = [
    inRow('source', (p) => p.source),
    inRow('overrides', (p) => p.sets.join(' ') || '—'),
    inRow('GPUs', lay('gpus')),
    inRow('TP', lay('tp')), inRow('CP', lay('cp')), inRow('PP', lay('pp')), inRow('VPP', lay('vpp')), inRow('DP', lay('dp')), inRow('EP', lay('ep')),
    inRow('schedule', lay('schedule')), inRow('ZeRO stage', lay('zeroStage')), inRow('micro-batch', lay('microBatch')), inRow('micro-batches', lay('numMicroBatches')),
    inRow('global batch', lay('globalBatchSequences')), inRow('precision', lay('precision')), inRow('recompute', lay('recompute')), inRow('overlap', lay('overlap')),
  ];
  const outputs: DiffRow[] = COLUMNS.filter((c) => c.better).map((c) => {
    const x = columnValue(a, c.key);
    const y = columnValue(b, c.key);
    const row: DiffRow = { label: c.header, a: cellText(a, c), b: cellText(b, c), differs: false };
    row.differs = row.a !== row.b;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== 0) row.change = y / x - 1;
      // Within each other's intervals the two are not clearly ordered: say so beside the change.
      if (c.key !== 'name' && (planIntervals(a)?.[c.key as NumericKey] || planIntervals(b)?.[c.key as NumericKey])) row.overlaps = overlapping(a, b, c.key as NumericKey);
    }
    return row;
  });
  outputs.push({ label: 'fits in HBM', a: fitsText(a), b: fitsText(b), differs: fitsText(a) !== fitsText(b) });
  return { inputs, outputs };
}

const fitsText = (p: ComparePlan) => (p.evaluation ? (p.evaluation.feasible ? 'yes' : 'NO') : '');

/** Widest cell of a plan in the diff. */
const DIFF_CELL = 24;

/** The diff as styled lines, columns `labelWidth`, then the two plans. */
export function diffLines(a: ComparePlan, b: ComparePlan): Line[] {
  const { inputs, outputs } = planDiff(a, b);
  const all = [...inputs, ...outputs];
  const lw = Math.max(...all.map((r) => r.label.length)) + 2;
  // A long cell (a search plan's dozen overrides) is cut so the second plan stays on an 80-column screen; the rows below show each field.
  const aw = Math.min(DIFF_CELL, Math.max(a.name.length, ...all.map((r) => r.a.length))) + 2;
  const bw = Math.min(DIFF_CELL, Math.max(b.name.length, ...all.map((r) => r.b.length))) + 2;
  const cut = (t: string) => (t.length > DIFF_CELL ? t.slice(0, DIFF_CELL - 1) + '…' : t);
  const row = (r: DiffRow): Line => [
    seg(`  ${r.label.padEnd(lw)}`, r.differs ? 'changed' : 'dim'),
    seg(cut(r.a).padEnd(aw), r.differs ? 'changed' : undefined),
    seg(cut(r.b).padEnd(bw), r.differs ? 'changed' : undefined),
    ...(r.change !== undefined && r.differs ? [seg(`${r.change >= 0 ? '+' : ''}${(100 * r.change).toFixed(1)}%`, 'key')] : []),
    ...(r.overlaps ? [seg(' within the intervals', 'dim')] : []),
  ];
  return [
    [seg(`  ${''.padEnd(lw)}`), seg(cut(a.name).padEnd(aw), 'head'), seg(cut(b.name).padEnd(bw), 'head'), seg('b vs a', 'dim')],
    [seg('Inputs', 'head')],
    ...inputs.map(row),
    [],
    [seg('Outputs', 'head')],
    ...outputs.map(row),
  ];
}

/** Plain text of styled lines. */
export function plainLines(lines: readonly Line[]): string {
  return lines.map((l) => l.map((s) => s.text).join('').trimEnd()).join('\n') + '\n';
}
