/**
 * The headline figures of a validation run, as validation/figures.json records them for the
 * regression guard (test/validation/targets.test.ts) and the README's accuracy table.
 */
import type { CaseResult, ValidationSummaries } from './score.js';

/** Cases with a |throughput error| above this count as misses (the issues' p90 target). */
export const MISS_THRESHOLD = 0.15;

export interface ValidationFigures {
  scored: number;
  skipped: number;
  throughputMedian: number | null;
  throughputP90: number | null;
  mfuPointsMedian: number | null;
  memoryMedian: number | null;
  /** Scored cases whose |throughput error| exceeds MISS_THRESHOLD. */
  over15: number;
  fitsShare: number | null;
  /** Median |throughput error| per source. */
  bySourceMedian: Record<string, number | null>;
}

/** The figures of one run's results and summary. */
export function validationFigures(cases: readonly CaseResult[], summary: ValidationSummaries): ValidationFigures {
  return {
    scored: summary.cases - summary.skipped,
    skipped: summary.skipped,
    throughputMedian: summary.throughputRelError.median,
    throughputP90: summary.throughputRelError.p90,
    mfuPointsMedian: summary.mfuAbsErrorPoints.median,
    memoryMedian: summary.memoryRelError.median,
    over15: cases.filter((r) => r.errors.throughputRel !== null && Math.abs(r.errors.throughputRel) > MISS_THRESHOLD).length,
    fitsShare: summary.fitsShare,
    bySourceMedian: Object.fromEntries(Object.entries(summary.bySource).map(([k, s]) => [k, s.throughputRelError.median])),
  };
}
