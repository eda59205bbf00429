/** Text rendering of the failure Monte Carlo: the `failures` report, its brief for `evaluate`, the progress line. */
import type { FailureSummary } from '../run/summary.js';
import type { RecoveryComparison } from '../run/monte-carlo.js';
import type { Progress } from '../run/plan-run.js';
import { formatSeconds, formatSi, formatPercent as pct, formatWhole } from '../units/format.js';
import { textTable } from './table.js';

const f1 = (x: number) => x.toFixed(1);
const int = formatWhole;

/** The failure tables; the padded-table layout itself is report/table.ts's (main's report/programme-failures.ts imports this name). */
export const table = textTable;

/** Renders the failure report: days, interruptions by component, lost GPU-hours, goodput, spares, checkpointing, histogram. */
export function renderFailures(s: FailureSummary, scenario: string, gpus: number, strategies?: RecoveryComparison[]): string {
  const out: string[] = [];
  const window = s.mode === 'horizon' ? `${f1(s.horizonDays ?? 0)}-day window` : 'whole token budget';
  out.push(`clusterplan failures · ${scenario} · ${int(gpus)} GPUs · ${window} · ${int(s.trials)} trials, seed ${s.seed}`);
  out.push('');
  if (s.mode === 'run') {
    out.push(`Wall-clock days (ideal ${f1(s.days.ideal)} without failures)`);
    out.push(...table(['', 'mean', 'p5', 'p50', 'p90', 'p99'], [['days', ...[s.days.mean, s.days.p5, s.days.p50, s.days.p90, s.days.p99].map(f1)]]));
    if (s.finishedTrials < s.trials) out.push(`  ${s.trials - s.finishedTrials} trials did not finish`);
  } else {
    out.push(`Tokens trained in the window: ${formatSi(s.tokens, 2)} (mean)`);
  }
  out.push('');
  out.push(`Goodput (effective training time)  mean ${pct(s.goodput.mean)} · p5 ${pct(s.goodput.p5)} · p50 ${pct(s.goodput.p50)} · p99 ${pct(s.goodput.p99)}`);
  out.push(closedFormLine(s));
  out.push('');
  const i = s.interruptions;
  out.push(`Interruptions  ${f1(i.total.mean)} mean (p90 ${f1(i.total.p90)}): ${f1(i.unexpected.mean)} unexpected, ${f1(i.planned.mean)} planned${i.mtbiHours !== null ? ` · one unexpected every ${f1(i.mtbiHours)} h` : ''}`);
  const comps = Object.entries(i.byComponent).sort((a, b) => b[1].mean - a[1].mean);
  const unexpectedMean = i.unexpected.mean;
  out.push(
    ...table(
      ['component', 'category', 'mean', 'p90', 'share'],
      comps.map(([name, c]) => [name + (c.planned ? ' (planned)' : ''), c.category, f1(c.mean), f1(c.p90), c.planned || unexpectedMean === 0 ? '' : pct(c.mean / unexpectedMean)]),
      2,
    ),
  );
  out.push(`  hit while running ${f1(i.during.running)}, checkpointing ${f1(i.during.checkpoint)}, already recovering ${f1(i.during.recovery)}`);
  out.push('');
  const l = s.lostGpuHours;
  out.push(`Lost GPU-hours  ${formatSi(l.mean, 2)} mean (p90 ${formatSi(l.p90, 2)})`);
  const lostRows: [string, number][] = [
    ['recomputed work', l.recomputed],
    ['restarts', l.restart],
    ['checkpoint pauses', l.checkpoint],
    ['detection', l.detection],
    ['planned maintenance', l.maintenance],
    ['waiting for spares', l.waitingForSpares],
  ];
  out.push(...table(['', 'GPU-hours', 'share'], lostRows.map(([k, v]) => [k, formatSi(v, 2), l.mean > 0 ? pct(v / l.mean) : ''])));
  out.push(...badputLines(s));
  out.push(...costLines(s));
  if (strategies) out.push(...strategyLines(strategies));
  out.push('');
  const sp = s.spares;
  out.push(`Spares  ${sp.spareNodes} nodes · ${f1(sp.nodesReplaced)} nodes swapped per run · nodes out for repair at the peak: mean ${f1(sp.peakNodesOut.mean)}, p99 ${f1(sp.peakNodesOut.p99)}, max ${sp.peakNodesOut.max}`);
  out.push(sp.trialsWaited > 0 ? `  the pool ran empty in ${pct(sp.trialsWaited)} of trials; the job waited ${sp.waitHours.toFixed(2)} h on average` : '  the pool never ran empty: the job never waited for a repair');
  out.push('');
  const c = s.checkpoint;
  const yd = c.youngSeconds !== null && c.dalySeconds !== null ? `Young ${formatSeconds(c.youngSeconds)}, Daly ${formatSeconds(c.dalySeconds)}` : 'Young/Daly: no unexpected failures';
  out.push(`Checkpoint  every ${formatSeconds(c.intervalSeconds)} of work (${c.intervalSteps} steps, ${c.source}) · ${yd}`);
  out.push(`  ${formatSi(c.bytes, 2)}B per save · ${c.async ? `async: pause ${formatSeconds(c.pauseSeconds)}, background write ${formatSeconds(c.backgroundSeconds)}` : `blocking write ${formatSeconds(c.writeSeconds)}`} · ${f1(c.savesPerTrial)} saves per run`);
  if (c.optimum) {
    out.push(`  simulated optimum ${formatSeconds(c.optimum.intervalSeconds)} (goodput ${pct(c.optimum.goodput)}); candidates:`);
    out.push('  ' + c.optimum.candidates.map((k) => `${formatSeconds(k.intervalSeconds)} ${(100 * k.goodput).toFixed(2)}%`).join(' · '));
  }
  const r = s.restart;
  out.push(`Restart  ${formatSeconds(r.seconds)}: relaunch ${formatSeconds(r.relaunchSeconds)} + communicator init ${formatSeconds(r.initSeconds)} + checkpoint load ${formatSeconds(r.loadSeconds)}`);
  if (s.mode === 'run') {
    out.push('');
    out.push('Finish time (days)');
    out.push(...histogramLines(s.histogram.edges, s.histogram.counts, s.trials));
  }
  for (const n of s.notes) out.push(`Note  ${n}`);
  return out.join('\n') + '\n';
}

export const BADPUT_LABELS: [keyof FailureSummary['badput'], string][] = [
  ['startUp', 'start-up (relaunch, init)'],
  ['checkpointSave', 'checkpoint save'],
  ['checkpointRestore', 'checkpoint restore'],
  ['progressLost', 'progress lost to disruptions'],
  ['waitingForRepair', 'waiting for repair or spares'],
  ['plannedMaintenance', 'planned maintenance'],
  ['runningShrunk', 'running shrunk (elastic)'],
];

/** Badput in Google's goodput buckets, mean and p90 GPU-hours per run. */
function badputLines(s: FailureSummary): string[] {
  const rows = BADPUT_LABELS.filter(([k]) => k !== 'runningShrunk' || s.badput[k].p90 > 0).map(([k, label]) => [label, formatSi(s.badput[k].mean, 2), formatSi(s.badput[k].p90, 2)]);
  return ['', 'Badput by cause (goodput buckets, GPU-hours per run)', ...table(['', 'mean', 'p90'], rows)];
}

const usd = (x: number) => `$${formatSi(x, 2)}`;

/** What a buyer pays: the ideal run, labelled, beside the expected one with failures and spares. */
function costLines(s: FailureSummary): string[] {
  const c = s.cost;
  const e = c.expected;
  const spares = c.spareGpus > 0 ? `${c.spareGpus} ${c.spareBilling} spare GPUs (${formatSi(e.spareGpuHours, 2)} GPU-hours)` : 'no spare nodes';
  const cost = e.costUsd ? `${usd(e.costUsd.mean)} (p90 ${usd(e.costUsd.p90)})` : 'price not set';
  const out = ['', `What a buyer pays  expected ${formatSi(e.gpuHours.mean, 2)} GPU-hours (p90 ${formatSi(e.gpuHours.p90, 2)}), ${cost}: failures, restarts, checkpoints and ${spares}`];
  if (c.ideal) out.push(`  ideal (no failures, no spares) ${formatSi(c.ideal.gpuHours, 2)} GPU-hours, ${c.ideal.costUsd !== null ? usd(c.ideal.costUsd) : 'price not set'}`);
  if (c.recovery !== 'checkpoint-restart') out.push(`  recovery strategy: ${c.recovery}`);
  return out;
}

/** The recovery strategies side by side on the same trials. */
function strategyLines(list: RecoveryComparison[]): string[] {
  const rows = list.map((r) => [
    r.strategy + (r.chosen ? ' *' : ''),
    pct(r.goodput.mean),
    pct(r.closedFormEttr),
    f1(r.days.mean),
    f1(r.days.p90),
    formatSi(r.gpuHours.mean, 2),
    r.costUsd ? usd(r.costUsd.mean) : 'price not set',
    r.costUsd ? usd(r.costUsd.p90) : '',
  ]);
  return ['', 'Recovery strategies (same trials; * the scenario\'s)', ...table(['strategy', 'goodput', 'closed form', 'days', 'p90', 'GPU-hours', 'cost', 'p90'], rows)];
}

/**
 * A text histogram: one row per bin with a bar proportional to its count. `barWidth` (default 40)
 * and `maxDigits` (most decimals of the bin edges, default 3) let a narrow screen or a toy run's
 * thousandths of a day fit.
 */
export function histogramLines(edges: number[], counts: number[], total: number, options: { barWidth?: number; maxDigits?: number } = {}): string[] {
  const width = options.barWidth ?? 40;
  const max = Math.max(...counts, 1);
  const binWidth = counts.length > 0 ? (edges[edges.length - 1] - edges[0]) / counts.length : 0;
  const digits = binWidth > 0 ? Math.min(options.maxDigits ?? 3, Math.max(1, Math.ceil(-Math.log10(binWidth)))) : 1;
  const edgeWidth = Math.max(7, digits + 4);
  return counts.map((n, k) => `  ${edges[k].toFixed(digits).padStart(edgeWidth)}–${edges[k + 1].toFixed(digits).padEnd(edgeWidth)} ${'█'.repeat(Math.round((width * n) / max)).padEnd(width)} ${String(n).padStart(6)} ${pct(n / total).padStart(6)}`);
}

/** Lines for the evaluate report (its `extra` block): the Monte Carlo summary in brief. */
export function renderFailureBrief(s: FailureSummary): string[] {
  const e = s.cost.expected;
  const ideal = s.cost.ideal;
  const cost = (x: number | null | undefined) => (x === null || x === undefined ? 'price not set' : usd(x));
  return [
    `Failures ${s.trials} trials: ${f1(s.days.mean)} days mean (p50 ${f1(s.days.p50)}, p90 ${f1(s.days.p90)}) vs ${f1(s.days.ideal)} ideal · goodput ${pct(s.goodput.mean)} · ${f1(s.interruptions.total.mean)} interruptions (${f1(s.interruptions.unexpected.mean)} unexpected) · checkpoint every ${formatSeconds(s.checkpoint.intervalSeconds)}`,
    `Cost    ideal ${formatSi(ideal?.gpuHours ?? 0, 2)} GPU-hours, ${cost(ideal?.costUsd)} (no failures, no spares) · expected ${formatSi(e.gpuHours.mean, 2)} GPU-hours (p90 ${formatSi(e.gpuHours.p90, 2)}), ${cost(e.costUsd?.mean)} (p90 ${cost(e.costUsd?.p90)}) with failures and ${s.cost.spareGpus} ${s.cost.spareBilling} spare GPUs`,
    // What the Monte Carlo noticed (an empty spare pool, trials past the wall cap, a closed form
    // that disagrees) belongs beside the goodput it explains, not only in --json.
    ...s.notes.map((n) => `Note     failures: ${n}`),
  ];
}

/** The closed-form cross-check beside the Monte Carlo's goodput. */
export function closedFormLine(s: FailureSummary): string {
  const k = s.closedForm;
  const [lo, hi] = k.monteCarlo.trialInterval95;
  const daly = k.ettrAtDaly !== null && s.checkpoint.dalySeconds !== null ? `, ${pct(k.ettrAtDaly)} at Daly's ${formatSeconds(s.checkpoint.dalySeconds)}` : '';
  return `  closed form (Kokolis et al. 2024) ${pct(k.ettr)} at this interval${daly} · 95% of trials ${pct(lo)}–${pct(hi)}${k.agrees ? '' : k.applies === false ? ' · its assumptions do not hold here (see note)' : ' · DISAGREES (see note)'}`;
}

/** One progress line: phase, bar, percent and trials (the CLI redraws it on stderr). */
export function progressLine(p: Progress, width = 30): string {
  const f = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(f * width);
  const label = p.phase === 'optimize' ? 'searching interval' : 'simulating';
  return `${label.padEnd(18)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(100 * f).toFixed(0).padStart(3)}% ${p.done}/${p.total} trials`;
}
