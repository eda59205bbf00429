/**
 * Scoring of predictions against a case's measurements (../shared/validation/README.md, "How to
 * score"): throughput error first, MFU error in the source's own points, memory error, and
 * whether the plan is predicted to fit; then summaries overall, per source and per GPU.
 */
import type { Evaluation } from '../run/evaluate.js';
import { percentile, sorted } from '../run/stats.js';
import { BYTES_PER_GIB } from '../units/format.js';
import type { ValidationCase } from './case.js';
import { caseSource } from './sources.js';

export interface CaseResult {
  id: string;
  source: string;
  gpu: string;
  skipped: boolean;
  reason: string | null;
  /** `fits`: the predicted per-GPU memory is within the GPU's HBM (every measured run ran, so it should). */
  /** `interval80`: the 80 % interval of tokens/s per GPU (validation/intervals.ts), when a residual table was given. */
  predicted: { stepSeconds: number; tokensPerSecondPerGpu: number; tflopsPerGpu: number; mfu: number; memoryGiBPerGpu: number; fits: boolean; microBatchGroupToFit?: number | null; interval80?: [number, number] | null } | null;
  measured: { stepSeconds: number | null; tokensPerSecondPerGpu: number | null; tflopsPerGpu: number | null; mfu: number | null; mfuPeakTflops: number | null; memoryGiBPerGpu: number | null };
  errors: { throughputRel: number | null; mfuPoints: number | null; memoryRel: number | null };
  /** Whether `predicted.fits` counts towards the summary's `fitsShare` (see memoryStated). */
  fitsScored: boolean;
  /** The software profile the case was scored with; `fallback` when the case names none; settings the model does not cost. */
  software?: { name: string; fallback: boolean; notModelled: string[]; assumed?: string[] };
}

/**
 * Whether a case states what decides its memory as far as the model represents it: its recompute
 * policy (the layout field, not flagged as unstated) and, when it offloads activations, how many
 * layers (cpu_offloading_num_layers in the notes, which plan.offloadLayers models).
 */
export function memoryStated(c: ValidationCase): boolean {
  const recompute = (c.layout as Record<string, unknown>).recompute;
  if (recompute === null || recompute === undefined) return false;
  if (c.flags.some((f) => f.startsWith('recompute-not-stated'))) return false;
  return !c.flags.includes('activation-offload') || /cpu_offloading_num_layers=\d+/.test(c.notes ?? '');
}

const NO_ERRORS = { throughputRel: null, mfuPoints: null, memoryRel: null };
const NOTHING_MEASURED = { stepSeconds: null, tokensPerSecondPerGpu: null, tflopsPerGpu: null, mfu: null, mfuPeakTflops: null, memoryGiBPerGpu: null };

/** The result of an entry that is not a case of the format: skipped, with the reason. */
export function malformedResult(id: string, reason: string): CaseResult {
  return { id, source: 'unknown', gpu: 'unknown', skipped: true, reason, predicted: null, measured: NOTHING_MEASURED, errors: NO_ERRORS, fitsScored: false };
}

/** Scores one prediction against the case's measurements (README "How to score"). */
export function scoreCase(c: ValidationCase, ev: Evaluation | null, reason?: string): CaseResult {
  const ms = c.measured;
  const measured = {
    stepSeconds: ms.stepSeconds ?? null,
    tokensPerSecondPerGpu: ms.tokensPerSecondPerGpu ?? null,
    tflopsPerGpu: ms.tflopsPerGpu ?? null,
    mfu: ms.mfu ?? null,
    mfuPeakTflops: ms.mfuPeakTflops ?? null,
    memoryGiBPerGpu: ms.memoryGiBPerGpu ?? null,
  };
  const base = { id: c.id, source: caseSource(c), gpu: c.hardware.gpu ?? 'unknown', measured };
  if (!ev) return { ...base, skipped: true, reason: reason ?? 'not modelled', predicted: null, errors: NO_ERRORS, fitsScored: false };
  const peakTflops = measured.mfuPeakTflops ?? ev.throughput.peakTflops;
  const predicted = {
    stepSeconds: ev.step.seconds,
    tokensPerSecondPerGpu: ev.throughput.tokensPerSecondPerGpu,
    tflopsPerGpu: ev.throughput.tflopsPerGpu,
    // The model's MFU against the same peak the source used.
    mfu: ev.throughput.tflopsPerGpu / peakTflops,
    memoryGiBPerGpu: ev.memory.perGpuBytes / BYTES_PER_GIB,
    fits: ev.memory.perGpuBytes <= ev.memory.capacityBytes,
    // An interleaved plan that does not fit: the micro-batch group N at or below which it would (plan/memory.ts microbatchGroupToFit).
    ...(ev.memory.microBatchGroupToFit !== undefined ? { microBatchGroupToFit: ev.memory.microBatchGroupToFit } : {}),
  };
  let throughputRel: number | null = null;
  if (measured.tokensPerSecondPerGpu) throughputRel = predicted.tokensPerSecondPerGpu / measured.tokensPerSecondPerGpu - 1;
  else if (measured.stepSeconds) throughputRel = measured.stepSeconds / predicted.stepSeconds - 1;
  else if (measured.mfu) throughputRel = predicted.mfu / measured.mfu - 1;
  else if (measured.tflopsPerGpu) throughputRel = predicted.tflopsPerGpu / measured.tflopsPerGpu - 1;
  const measuredMfu = measured.mfu ?? (measured.tflopsPerGpu && measured.mfuPeakTflops ? measured.tflopsPerGpu / measured.mfuPeakTflops : null);
  const mfuPoints = throughputRel !== null && measuredMfu !== null ? 100 * measuredMfu * Math.abs(throughputRel) : null;
  const memoryRel = measured.memoryGiBPerGpu ? predicted.memoryGiBPerGpu / measured.memoryGiBPerGpu - 1 : null;
  return { ...base, skipped: false, reason: null, predicted, errors: { throughputRel, mfuPoints, memoryRel }, fitsScored: memoryStated(c) };
}

export interface ValidationSummary {
  cases: number;
  skipped: number;
  throughputRelError: { median: number | null; p90: number | null; max: number | null };
  mfuAbsErrorPoints: { median: number | null; max: number | null };
  memoryRelError: { median: number | null };
  /** Share predicted to fit in HBM of the `fitsCases` scored cases that state their recompute (and their offload, if any). */
  fitsShare: number | null;
  fitsCases: number;
  /** Scored cases that name no software profile and ran on their source's fallback profile (sources.ts). */
  softwareFallback: number;
  /** Scored cases that use a setting the model does not represent (each case's `software.notModelled`). */
  notModelled: number;
  /** Scored cases whose source leaves a layout setting unknown (micro-batch, interleaving, recompute, precision) that the prediction assumed (`software.assumed`). */
  assumedLayout: number;
  /** Share of the cases with an 80 % interval whose measured throughput falls inside it (absent when no case has one). */
  intervalCoverage80?: number | null;
  /** Median relative width of those intervals, (high - low) / predicted (absent when no case has one): coverage bought by width shows here. */
  intervalWidth80?: number | null;
}

/**
 * Whether the measured throughput falls inside the case's 80 % interval: the measurement as
 * tokens/s per GPU is predicted / (1 + throughputRel), whichever quantity the source measured.
 */
export function insideInterval(r: CaseResult): boolean | null {
  const iv = r.predicted?.interval80;
  const e = r.errors.throughputRel;
  if (!iv || e === null || r.skipped) return null;
  const measured = r.predicted!.tokensPerSecondPerGpu / (1 + e);
  return measured >= iv[0] && measured <= iv[1];
}

/** The relative width (high - low) / predicted of the case's 80 % interval; null without one. */
export function intervalWidth(r: CaseResult): number | null {
  const iv = r.predicted?.interval80;
  return iv && !r.skipped && r.predicted!.tokensPerSecondPerGpu > 0 ? (iv[1] - iv[0]) / r.predicted!.tokensPerSecondPerGpu : null;
}

/** Quantile q in [0, 1] of unsorted values (run/stats percentile, Hyndman-Fan type 7); null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  return values.length === 0 ? null : percentile(sorted(values), 100 * q);
}

/** Summarises case results: medians, p90 and max of absolute errors, and the share predicted to fit. */
export function summarise(results: CaseResult[]): ValidationSummary {
  const done = results.filter((r) => !r.skipped);
  const thr = done.map((r) => r.errors.throughputRel).filter((x): x is number => x !== null).map(Math.abs);
  const mfu = done.map((r) => r.errors.mfuPoints).filter((x): x is number => x !== null);
  const mem = done.map((r) => r.errors.memoryRel).filter((x): x is number => x !== null).map(Math.abs);
  const fitScored = done.filter((r) => r.fitsScored);
  const inside = done.map(insideInterval).filter((x): x is boolean => x !== null);
  const widths = done.filter((r) => insideInterval(r) !== null).map(intervalWidth).filter((x): x is number => x !== null);
  return {
    cases: results.length,
    skipped: results.length - done.length,
    throughputRelError: { median: quantile(thr, 0.5), p90: quantile(thr, 0.9), max: thr.length ? Math.max(...thr) : null },
    mfuAbsErrorPoints: { median: quantile(mfu, 0.5), max: mfu.length ? Math.max(...mfu) : null },
    memoryRelError: { median: quantile(mem, 0.5) },
    fitsShare: fitScored.length ? fitScored.filter((r) => r.predicted!.fits).length / fitScored.length : null,
    fitsCases: fitScored.length,
    softwareFallback: done.filter((r) => r.software?.fallback).length,
    notModelled: done.filter((r) => (r.software?.notModelled.length ?? 0) > 0).length,
    assumedLayout: done.filter((r) => (r.software?.assumed?.length ?? 0) > 0).length,
    ...(inside.length ? { intervalCoverage80: inside.filter(Boolean).length / inside.length, intervalWidth80: quantile(widths, 0.5) } : {}),
  };
}

export type ValidationSummaries = ValidationSummary & { bySource: Record<string, ValidationSummary>; byGpu: Record<string, ValidationSummary> };

/** Summary overall, per source and per GPU. */
export function summariseAll(results: CaseResult[]): ValidationSummaries {
  const group = (key: (r: CaseResult) => string) => {
    const out: Record<string, ValidationSummary> = {};
    for (const k of [...new Set(results.map(key))].sort()) out[k] = summarise(results.filter((r) => key(r) === k));
    return out;
  };
  return { ...summarise(results), bySource: group((r) => r.source), byGpu: group((r) => r.gpu) };
}
