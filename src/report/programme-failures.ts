/** Text rendering of a programme's failure Monte Carlo (`failures` on a scenario with stages). */
import type { ProgrammeFailureSummary } from '../run/programme-summary.js';
import { formatSi, formatPercent as pct, formatInt } from '../units/format.js';
import { table, BADPUT_LABELS } from './failures.js';

const f2 = (x: number) => x.toFixed(2);
const usd = (x: number) => `$${formatSi(x, 2)}`;

/** The per-stage table, the programme's days, goodput, GPU-hours and cost, badput by cause, and the notes. */
export function renderProgrammeFailures(s: ProgrammeFailureSummary, scenario: string): string {
  const out: string[] = [];
  out.push(`clusterplan failures · ${scenario} · programme of ${s.stages.length} stages · ${formatInt(s.trials)} trials, seed ${s.seed}`);
  out.push('');
  const rows = s.stages.map((st) => {
    const f = st.failures;
    return [
      st.name,
      st.kind,
      formatInt(st.gpus),
      st.index === 0 ? '' : st.relaunch ? 'relaunch' : st.carriedArrivals ? 'continue' : 'continue*',
      f2(st.days.ideal),
      f2(st.days.mean),
      f2(st.days.p90),
      f ? pct(f.goodput.mean) : '-',
      f ? f.interruptions.total.mean.toFixed(1) : '-',
      f ? formatSi(f.lostGpuHours.mean, 2) : '-',
      formatSi(st.expected.gpuHours.mean, 2),
      st.expected.costUsd ? usd(st.expected.costUsd.mean) : 'price not set',
    ];
  });
  out.push(...table(['stage', 'kind', 'GPUs', 'boundary', 'ideal d', 'mean d', 'p90 d', 'goodput', 'interrupts', 'lost GPU-h', 'exp. GPU-h', 'exp. cost'], rows, 2));
  out.push('  exp. GPU-h and exp. cost: job GPUs over the stage\'s wall time with failures, plus its spare nodes (mean over trials)');
  if (s.stages.some((st) => st.index > 0 && !st.relaunch && !st.carriedArrivals)) out.push('  continue*: same layout after a stage whose faults are not simulated (generate); faults drawn afresh');
  out.push('');
  const d = s.days;
  out.push(`Days        ideal ${f2(d.ideal)} · mean ${f2(d.mean)} · p50 ${f2(d.p50)} · p90 ${f2(d.p90)} · p99 ${f2(d.p99)}  (end to end, one failure timeline)`);
  out.push(`Goodput     mean ${pct(s.goodput.mean)} (p5 ${pct(s.goodput.p5)}, p99 ${pct(s.goodput.p99)}), GPU-time weighted over the stages`);
  out.push(`Interrupts  mean ${s.interruptions.mean.toFixed(1)}, p90 ${s.interruptions.p90.toFixed(0)}; lost GPU-hours mean ${formatSi(s.lostGpuHours.mean, 2)}, p90 ${formatSi(s.lostGpuHours.p90, 2)}`);
  const c = s.cost;
  const e = c.expected;
  out.push('');
  out.push(`What a buyer pays  expected ${formatSi(e.gpuHours.mean, 2)} GPU-hours (p90 ${formatSi(e.gpuHours.p90, 2)}), ${e.costUsd ? `${usd(e.costUsd.mean)} (p90 ${usd(e.costUsd.p90)})` : 'price not set'}: failures, restarts, checkpoints, relaunches and ${formatSi(e.spareGpuHours, 2)} spare GPU-hours`);
  out.push(`  ideal (no failures, no spares) ${formatSi(c.ideal.gpuHours, 2)} GPU-hours, ${c.ideal.costUsd !== null ? usd(c.ideal.costUsd) : 'price not set'}`);
  const badput = BADPUT_LABELS.filter(([k]) => k !== 'runningShrunk' || s.badput[k].p90 > 0).map(([k, label]) => [label, formatSi(s.badput[k].mean, 2), formatSi(s.badput[k].p90, 2)]);
  out.push('', 'Badput by cause (goodput buckets, GPU-hours per programme)', ...table(['', 'mean', 'p90'], badput));
  out.push('');
  for (const n of s.notes) out.push(`Note  ${n}`);
  for (const st of s.stages) for (const n of st.failures?.notes ?? []) out.push(`Note  ${st.name}: ${n}`);
  return out.join('\n') + '\n';
}
