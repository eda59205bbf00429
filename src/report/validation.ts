/** Plain-text rendering of a validation run: one row per case, then summaries by source and GPU. */
import { quantile, type CaseResult, type ValidationSummary, type ValidationSummaries } from '../validation/score.js';
import type { CrossValidation } from '../validation/cv.js';

const pct = (x: number | null, digits = 1) => (x === null ? '—' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(digits)}%`);
const apct = (x: number | null, digits = 1) => (x === null ? '—' : `${(100 * x).toFixed(digits)}%`);
const pts = (x: number | null) => (x === null ? '—' : x.toFixed(2));
const fix = (x: number | null | undefined, d: number) => (x === null || x === undefined ? '—' : x.toFixed(d));

function measuredThroughput(r: CaseResult): string {
  const m = r.measured;
  const p = r.predicted;
  if (!p) return '';
  if (m.tokensPerSecondPerGpu) return `tok/s/GPU ${fix(p.tokensPerSecondPerGpu, 0)} vs ${fix(m.tokensPerSecondPerGpu, 0)}`;
  if (m.stepSeconds) return `step ${fix(p.stepSeconds, 2)} s vs ${fix(m.stepSeconds, 2)} s`;
  if (m.mfu) return `MFU ${apct(p.mfu)} vs ${apct(m.mfu)}`;
  if (m.tflopsPerGpu) return `TFLOP/s ${fix(p.tflopsPerGpu, 0)} vs ${fix(m.tflopsPerGpu, 0)}`;
  return '';
}

function summaryLine(name: string, s: ValidationSummary): string {
  const t = s.throughputRelError;
  return `${name.padEnd(34)} ${String(s.cases - s.skipped).padStart(5)} ${String(s.skipped).padStart(5)}  ${apct(t.median).padStart(7)} ${apct(t.p90).padStart(7)} ${apct(t.max).padStart(7)}  ${pts(s.mfuAbsErrorPoints.median).padStart(6)} ${pts(s.mfuAbsErrorPoints.max).padStart(6)}  ${apct(s.memoryRelError.median).padStart(7)}`;
}

/** "N of M cases that state their recompute (x%)": every measured run ran, so its plan fits. */
function fitsLine(s: ValidationSummary): string {
  if (s.fitsShare === null) return 'no scored case states its recompute';
  return `${Math.round(s.fitsShare * s.fitsCases)} of ${s.fitsCases} cases that state their recompute (and offload) (${apct(s.fitsShare)})`;
}

/** " (setting: cases, ...)" over the scored cases' not-modelled (or assumed) settings, most frequent first. */
function notModelledCounts(cases: CaseResult[], which: 'notModelled' | 'assumed' = 'notModelled'): string {
  const n = new Map<string, number>();
  for (const r of cases) if (!r.skipped) for (const k of r.software?.[which] ?? []) n.set(k, (n.get(k) ?? 0) + 1);
  const rows = [...n].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return rows.length ? ` (${rows.map(([k, v]) => `${k}: ${v}`).join(', ')})` : '';
}

/** Renders the per-case table and the summaries. */
export function renderValidation(cases: CaseResult[], summary: ValidationSummaries): string {
  const out: string[] = [];
  out.push(`${'case'.padEnd(58)} ${'gpu'.padEnd(14)} ${'predicted vs measured'.padEnd(34)} ${'error'.padStart(8)} ${'MFU pts'.padStart(8)} ${'memory'.padStart(8)}`);
  for (const r of cases) {
    if (r.skipped) {
      out.push(`${r.id.slice(0, 58).padEnd(58)} ${r.gpu.padEnd(14)} skipped: ${r.reason}`);
      continue;
    }
    const mem = r.measured.memoryGiBPerGpu ? `${pct(r.errors.memoryRel)}` : '';
    const g = r.predicted?.microBatchGroupToFit;
    const fit = r.predicted && !r.predicted.fits ? `  does not fit in HBM${typeof g === 'number' ? ` (would with micro-batch groups of N <= ${g})` : ''}` : '';
    const nm = fit + (r.software?.notModelled.length ? `  not modelled: ${r.software.notModelled.join('; ')}` : '') + (r.software?.assumed?.length ? `  assumed (not stated): ${r.software.assumed.join(', ')}` : '');
    out.push(`${r.id.slice(0, 58).padEnd(58)} ${r.gpu.padEnd(14)} ${measuredThroughput(r).padEnd(34)} ${pct(r.errors.throughputRel).padStart(8)} ${pts(r.errors.mfuPoints).padStart(8)} ${mem.padStart(8)}${nm}`);
  }
  out.push('');
  out.push(`${''.padEnd(34)} ${'cases'.padStart(5)} ${'skip'.padStart(5)}  ${'|throughput error|'.padEnd(23)}  ${'MFU points'.padEnd(13)}  memory`);
  out.push(`${''.padEnd(34)} ${''.padStart(5)} ${''.padStart(5)}  ${'median'.padStart(7)} ${'p90'.padStart(7)} ${'max'.padStart(7)}  ${'median'.padStart(6)} ${'max'.padStart(6)}  ${'median'.padStart(7)}`);
  out.push(summaryLine('all', summary));
  out.push(`predicted to fit in HBM: ${fitsLine(summary)}`);
  out.push(`software: ${summary.softwareFallback} scored cases name no profile (source fallback); ${summary.notModelled} use a setting not modelled${notModelledCounts(cases)}`);
  if (summary.assumedLayout > 0) out.push(`layout: ${summary.assumedLayout} scored cases leave a setting unstated that the prediction assumed${notModelledCounts(cases, 'assumed')}`);
  if (summary.intervalCoverage80 !== undefined) out.push(`80% intervals (cross-validated residuals of the other sources) hold the measured throughput: ${apct(summary.intervalCoverage80 ?? null)}`);
  out.push('by source');
  for (const [k, s] of Object.entries(summary.bySource)) out.push(summaryLine('  ' + k, s));
  out.push('by GPU');
  for (const [k, s] of Object.entries(summary.byGpu)) out.push(summaryLine('  ' + k, s));
  return out.join('\n') + '\n';
}

/** Renders cross-validation: per held-out source (or GPU generation), in-sample and cross-validated |throughput error|, signed median and interval coverage. */
export function renderCrossValidation(cv: CrossValidation): string {
  const out: string[] = [];
  const what = cv.by === 'gpu' ? 'GPU generation' : cv.by;
  out.push(`leave one ${what} out: each GPU profile's calibrated multipliers refitted from its unfitted curves without the held-out ${what} (${cv.engine === 'des' ? 'discrete-event' : 'closed-form'} engine)`);
  out.push('');
  out.push(`${''.padEnd(34)} ${'cases'.padStart(5)}  ${'in-sample'.padEnd(15)}  ${'cross-validated'.padEnd(33)}`);
  out.push(`${''.padEnd(34)} ${''.padStart(5)}  ${'median'.padStart(7)} ${'p90'.padStart(7)}  ${'median'.padStart(7)} ${'p90'.padStart(7)} ${'signed'.padStart(7)} ${'80% in'.padStart(7)}`);
  const signed = (rs: readonly CaseResult[]) => quantile(rs.filter((r) => !r.skipped && r.errors.throughputRel !== null).map((r) => r.errors.throughputRel!), 0.5);
  const line = (name: string, a: ValidationSummary, b: ValidationSummary, rs: readonly CaseResult[]) =>
    `${name.padEnd(34)} ${String(a.cases - a.skipped).padStart(5)}  ${apct(a.throughputRelError.median).padStart(7)} ${apct(a.throughputRelError.p90).padStart(7)}  ${apct(b.throughputRelError.median).padStart(7)} ${apct(b.throughputRelError.p90).padStart(7)} ${pct(signed(rs)).padStart(7)} ${apct(b.intervalCoverage80 ?? null).padStart(7)}`;
  out.push(line('all', cv.inSample, cv.crossValidated, cv.cases));
  // Folds with nothing scored (cases on GPUs without a profile) have no figures to show.
  for (const f of cv.folds) if (f.inSample.cases > f.inSample.skipped) out.push(line('  ' + f.held, f.inSample, f.crossValidated, cv.cases.filter((_, i) => cv.heldOf[i] === f.held)));
  return out.join('\n') + '\n';
}
