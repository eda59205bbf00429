/**
 * Calibration of a GPU profile against validation cases: multipliers on its GEMM efficiency curves
 * (bf16, fp8, fp4 and their size shifts), its attention efficiency and its MoE host term, fitted
 * to minimise the robust mean |throughput error| over ALL the given cases on that GPU at once
 * (every source together, never per case). tools/calibrate.ts prints a fit for a profile to be
 * edited by hand; cross-validation (cv.ts) refits with a source held out. Efficiencies never rise
 * above the GPU's measured ceilings (MAMF, FlashAttention): multipliers are bounded by them.
 */
import type { Gpu } from '../schema/system.js';
import type { EngineName } from '../run/evaluate.js';
import type { ValidationCase } from './case.js';
import type { ProfileLookup } from './adapter.js';
import { prepareCases, scorePrepared, type PreparedCase } from './cases.js';
import type { CaseResult } from './score.js';

export interface FitParams { bf16: number; fp8: number; fp4: number; attn: number; shift: number; shift8: number; hostA: number; hostB: number }
export type FitParam = keyof FitParams;

export const NO_FIT: FitParams = { bf16: 1, fp8: 1, fp4: 1, attn: 1, shift: 1, shift8: 1, hostA: 1, hostB: 1 };

// MAMF ceilings (hardware.md §1, best large-GEMM fraction of the dense peak): a fitted curve may
// not rise above them.
const MAMF: Record<string, { bf16: number; fp8: number }> = {
  'a100-sxm-40gb': { bf16: 0.869, fp8: 0.869 }, 'a100-sxm-80gb': { bf16: 0.869, fp8: 0.869 },
  'h100-sxm-80gb': { bf16: 0.803, fp8: 0.709 }, 'h200-sxm-141gb': { bf16: 0.803, fp8: 0.734 },
  b200: { bf16: 0.776, fp8: 0.763 }, gb200: { bf16: 0.729, fp8: 0.723 },
};

/** The profile with the multipliers applied. */
export function applyFit(base: Gpu, p: FitParams): Gpu {
  const g = structuredClone(base);
  const scale = (curve: [number, number][], s: number, shift: number) => curve.map(([x, y]) => [x * shift, Math.min(1, y * s)] as [number, number]);
  g.efficiency.gemm.bf16 = scale(base.efficiency.gemm.bf16, p.bf16, p.shift);
  if (base.efficiency.gemm.fp8) g.efficiency.gemm.fp8 = scale(base.efficiency.gemm.fp8, p.fp8, p.shift8);
  if (base.efficiency.gemm.fp4) g.efficiency.gemm.fp4 = scale(base.efficiency.gemm.fp4, p.fp8 * p.fp4, p.shift8);
  if (base.efficiency.moeHost) g.efficiency.moeHost = { perLayer: base.efficiency.moeHost.perLayer * p.hostA, perLocalExpert: base.efficiency.moeHost.perLocalExpert * p.hostB };
  g.efficiency.attentionForward = Math.min(1, base.efficiency.attentionForward * p.attn);
  g.efficiency.attentionBackward = Math.min(1, base.efficiency.attentionBackward * p.attn);
  return g;
}

/**
 * The profile before calibration: the bundled (fitted) curves with the recorded multipliers taken
 * out, i.e. the microbenchmark-shaped curves the fit started from. applyFit(unapplyFit(g, p), p)
 * gives g back wherever no efficiency was capped at 1.
 */
export function unapplyFit(fitted: Gpu, p: FitParams): Gpu {
  const g = structuredClone(fitted);
  const unscale = (curve: [number, number][], s: number, shift: number) => curve.map(([x, y]) => [x / shift, y / s] as [number, number]);
  g.efficiency.gemm.bf16 = unscale(fitted.efficiency.gemm.bf16, p.bf16, p.shift);
  if (fitted.efficiency.gemm.fp8) g.efficiency.gemm.fp8 = unscale(fitted.efficiency.gemm.fp8, p.fp8, p.shift8);
  if (fitted.efficiency.gemm.fp4) g.efficiency.gemm.fp4 = unscale(fitted.efficiency.gemm.fp4, p.fp8 * p.fp4, p.shift8);
  if (fitted.efficiency.moeHost) g.efficiency.moeHost = { perLayer: fitted.efficiency.moeHost.perLayer / p.hostA, perLocalExpert: fitted.efficiency.moeHost.perLocalExpert / p.hostB };
  g.efficiency.attentionForward = fitted.efficiency.attentionForward / p.attn;
  g.efficiency.attentionBackward = fitted.efficiency.attentionBackward / p.attn;
  return g;
}

/** Profiles with one GPU replaced by its fitted version. */
export function withGpu(profiles: ProfileLookup, gpu: Gpu): ProfileLookup {
  return { node: (n) => profiles.node(n), fabric: (n) => profiles.fabric(n), software: (n) => profiles.software(n), gpu: (n) => (n === gpu.name ? gpu : profiles.gpu(n)) };
}

export interface FitOptions {
  engine?: EngineName;
  /** Per-case cap on |error| in the robust loss (default 0.5). */
  cap?: number;
  /** Multipliers held at their start value. */
  fixed?: readonly FitParam[];
  /** Start values (default NO_FIT; shift and shift8 start there too). */
  start?: Partial<FitParams>;
  /** The profile the multipliers apply to (default: the bundled one); cross-validation passes the unfitted base. */
  base?: Gpu;
  /**
   * The bf16 curve takes the fp8 curve's multipliers (bf16 = fp8, shift = shift8): GPUs whose bf16
   * curve is TRANSFERRED from their fp8 fit (B200, GB200: no dense bf16 case runs on them).
   */
  bf16FollowsFp8?: boolean;
}

export interface Fit {
  gpu: Gpu;
  params: FitParams;
  loss: number;
  results: CaseResult[];
}

/**
 * Robust mean |throughput error|: each case's error capped at `cap`, plus a tie-breaker of
 * TIE_BREAK times the mean |log(predicted / measured)| without a cap. The cap keeps a few far-off
 * cases from pulling a fit; but where every case is beyond it (a search starting far from the
 * optimum, e.g. an unfitted curve whose fitted size shift is ~100x) the capped loss is flat and the
 * coordinate search cannot move. The tie-breaker gives it a direction there and is too small to
 * move an optimum the capped term decides.
 */
export const TIE_BREAK = 1e-3;
export function robustLoss(results: readonly CaseResult[], cap: number): number {
  const errs = results.map((r) => r.errors.throughputRel).filter((x): x is number => x !== null);
  return errs.reduce((a, e) => a + Math.min(cap, Math.abs(e)) + TIE_BREAK * Math.abs(Math.log1p(e)), 0) / Math.max(1, errs.length);
}

/**
 * Fits the multipliers of one GPU profile on the cases (those on other GPUs are ignored) by
 * coordinate search with halving steps. Deterministic; with no case on the GPU it returns the
 * profile unchanged.
 */
export function fitGpu(cases: readonly ValidationCase[], gpuName: string, profiles: ProfileLookup, options: FitOptions = {}): Fit {
  const base = options.base ?? profiles.gpu(gpuName);
  if (!base) throw new Error(`no GPU profile ${gpuName}`);
  return fitPrepared(prepareCases(cases.filter((c) => c.hardware.gpu === gpuName), profiles), base, options);
}

/** The multipliers as applied: with bf16FollowsFp8 the bf16 curve takes the fp8 ones. */
function effective(p: FitParams, options: FitOptions): FitParams {
  return options.bf16FollowsFp8 ? { ...p, bf16: p.fp8, shift: p.shift8 } : p;
}

/**
 * fitGpu on cases already resolved (cases.ts prepareCases): those on other GPUs are ignored. The
 * coordinate search steps the size shifts and host terms in log space with a wider first step,
 * so a search from the unfitted base (shift 1) reaches a fitted shift of ~100x in a few dozen moves.
 */
export function fitPrepared(prepared: readonly PreparedCase[], base: Gpu, options: FitOptions = {}): Fit {
  const mine = prepared.filter((pc) => pc.case.hardware.gpu === base.name);
  const cap = options.cap ?? 0.5;
  const run = (p: FitParams) => scorePrepared(mine, [applyFit(base, effective(p, options))], options.engine);
  const loss = (p: FitParams) => robustLoss(run(p), cap);
  const top = (c: [number, number][] | undefined) => (c ? Math.max(...c.map(([, y]) => y)) : 1);
  const ceiling = MAMF[base.name];
  const maxBf16 = (ceiling?.bf16 ?? 1) / top(base.efficiency.gemm.bf16);
  const maxFp8 = base.efficiency.gemm.fp8 ? (ceiling?.fp8 ?? 1) / top(base.efficiency.gemm.fp8) : Infinity;
  const fixed = new Set<FitParam>(options.fixed ?? []);
  if (options.bf16FollowsFp8) (['bf16', 'shift'] as const).forEach((k) => fixed.add(k));
  // Multipliers of curves the profile does not have change nothing: not searched.
  if (!base.efficiency.moeHost) (['hostA', 'hostB'] as const).forEach((k) => fixed.add(k));
  if (!base.efficiency.gemm.fp8) (['fp8', 'shift8'] as const).forEach((k) => fixed.add(k));
  if (!base.efficiency.gemm.fp4) fixed.add('fp4');
  if (!base.efficiency.moeHost?.perLocalExpert) fixed.add('hostB');
  let p: FitParams = { ...NO_FIT, ...options.start };
  const okFp4 = (q: FitParams) => !base.efficiency.gemm.fp4 || q.fp8 * q.fp4 * top(base.efficiency.gemm.fp4) <= (ceiling?.fp8 ?? 1) + 1e-9;
  const okEffective = (q: FitParams) => q.bf16 <= maxBf16 + 1e-9 && q.fp8 <= maxFp8 + 1e-9 && q.attn <= 1 && okFp4(q);
  const ok = (q: FitParams) => okEffective(effective(q, options));
  if (mine.length === 0) return { gpu: base, params: p, loss: 0, results: [] };
  let best = loss(p);
  const logScale = (k: FitParam) => k.startsWith('shift') || k.startsWith('host');
  for (let step = 0.2; step > 0.005; step /= 2) {
    let improved = true;
    while (improved) {
      improved = false;
      for (const k of Object.keys(p) as FitParam[]) {
        if (fixed.has(k)) continue;
        for (const dir of [-1, 1]) {
          const q = { ...p, [k]: logScale(k) ? p[k] * Math.exp(dir * step * 5) : p[k] * (1 + dir * step) };
          if (!ok(q)) continue;
          const l = loss(q);
          if (l < best - 1e-9) {
            best = l;
            p = q;
            improved = true;
          }
        }
      }
    }
  }
  const gpu = applyFit(base, effective(p, options));
  return { gpu, params: effective(p, options), loss: best, results: run(p) };
}
