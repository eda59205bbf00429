/** Achievable compute rates on a GPU profile: GEMMs by size and precision, attention, memory-bound work. */
import type { Gpu } from '../schema/system.js';

export type Precision = 'bf16' | 'fp8' | 'fp4';

/** Piecewise log-linear interpolation of an efficiency curve at `gflop` (flat outside the points). */
export function interpolateCurve(points: [number, number][], gflop: number): number {
  if (gflop <= points[0][0]) return points[0][1];
  const last = points[points.length - 1];
  if (gflop >= last[0]) return last[1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (gflop <= x1) {
      const [x0, y0] = points[i - 1];
      const f = (Math.log(gflop) - Math.log(x0)) / (Math.log(x1) - Math.log(x0));
      return y0 + f * (y1 - y0);
    }
  }
  return last[1];
}

/** The precision a GPU can actually run GEMMs in: fp4/fp8 fall back when the profile lacks them. */
export function gemmPrecision(gpu: Gpu, precision: Precision): Precision {
  if (precision === 'fp4' && gpu.peakFlops.fp4 !== undefined) return 'fp4';
  if (precision !== 'bf16' && gpu.peakFlops.fp8 !== undefined) return 'fp8';
  return 'bf16';
}

/** Dense peak FLOP/s of the GPU at a precision (bf16 when the precision is unsupported). */
export function peakFlopsPerSecond(gpu: Gpu, precision: Precision): number {
  const p = gemmPrecision(gpu, precision);
  return (p === 'fp4' ? gpu.peakFlops.fp4 : p === 'fp8' ? gpu.peakFlops.fp8 : undefined) ?? gpu.peakFlops.bf16;
}

/**
 * Arithmetic intensity of an m×k by k×n GEMM, FLOPs per byte with 2-byte elements: 2mnk FLOPs over
 * 2(mk + kn + mn) bytes = mnk / (mk + kn + mn) (NVIDIA, "Matrix Multiplication Background" User's
 * Guide, DU-09799-001, ch. 2 "Math And Memory Bounds"; its example, M×N×K = 8192×128×8192, is
 * 124.1 FLOPS/B, and 8192³ is 2730).
 */
export function gemmIntensity(m: number, k: number, n: number): number {
  return (m * k * n) / (m * k + k * n + m * n);
}

/**
 * Share of an m×k×n GEMM's FLOPs that the square GEMM with the same arithmetic intensity has:
 * a square of edge s has intensity s/3, so the equivalent edge is 3·AI and the share is
 * (3·AI)³ / (mnk). It is 1 for a square and below 1 for any other shape (AM-GM:
 * mk + kn + mn ≥ 3(mnk)^⅔), so a skinny GEMM (one small dimension: few tokens per expert, a
 * narrow TP shard) reads the efficiency curve where a small square GEMM sits, as it reuses each
 * loaded tile no more than that square would (the guide: a GEMM with any dimension near the
 * tile size is memory-limited however many FLOPs it has).
 */
export function gemmShapeFactor(m: number, k: number, n: number): number {
  if (m <= 0 || k <= 0 || n <= 0) return 0;
  return Math.min(1, (27 * (m * k * n) ** 2) / (m * k + k * n + m * n) ** 3);
}

/**
 * Seconds for GEMMs of `flops` FLOPs at `precision`, from peak × efficiency, the efficiency read
 * off the profile's curve at `curveFlops` (default: the FLOPs themselves, a square GEMM's key).
 */
export function gemmSeconds(gpu: Gpu, precision: Precision, flops: number, curveFlops = flops): number {
  if (flops <= 0) return 0;
  const p = gemmPrecision(gpu, precision);
  const curve = (p === 'fp4' ? gpu.efficiency.gemm.fp4 ?? gpu.efficiency.gemm.fp8 : p === 'fp8' ? gpu.efficiency.gemm.fp8 : undefined) ?? gpu.efficiency.gemm.bf16;
  const eff = interpolateCurve(curve, curveFlops / 1e9);
  const seconds = flops / (peakFlopsPerSecond(gpu, p) * eff);
  return p === 'bf16' ? seconds : seconds * (1 + gpu.efficiency.fp8Overhead);
}

/**
 * Seconds for `batch` GEMMs of an m×k by k×n product (2mnk FLOPs each). The profile's efficiency
 * curve is keyed on the FLOPs of square GEMMs (the MAMF microbenchmark's shape); a GEMM of any
 * shape reads it at the FLOPs of `batch` squares with its arithmetic intensity (gemmShapeFactor),
 * so a square GEMM gets exactly the curve's value and a skinny one the value of its equivalent
 * square.
 */
export function gemmShapeSeconds(gpu: Gpu, precision: Precision, m: number, k: number, n: number, batch = 1): number {
  const flops = 2 * m * k * n * batch;
  return gemmSeconds(gpu, precision, flops, flops * gemmShapeFactor(m, k, n));
}

export type AttentionKernel = 'flash' | 'flash2' | 'flash1';
/** FlashAttention-2 "yields around 2× speedup compared to FlashAttention" (Dao 2023, abstract). */
const FA2_SPEEDUP_OVER_FA1 = 2;

/** Seconds for flash-attention forward or backward work of `flops` (bf16 peak × attention efficiency). */
export function attentionSeconds(gpu: Gpu, flops: number, phase: 'forward' | 'backward', kernel: AttentionKernel = 'flash'): number {
  const e = gpu.efficiency;
  const best = phase === 'forward' ? e.attentionForward : e.attentionBackward;
  const flash2 = (phase === 'forward' ? e.attentionFlash2Forward : e.attentionFlash2Backward) ?? best;
  // First-generation fused kernels (FA1, the 2022 Triton kernel): the profile's figure, else half of FA2.
  const flash1 = (phase === 'forward' ? e.attentionFlash1Forward : e.attentionFlash1Backward) ?? flash2 / FA2_SPEEDUP_OVER_FA1;
  const eff = kernel === 'flash' ? best : kernel === 'flash2' ? flash2 : flash1;
  return flops / (gpu.peakFlops.bf16 * eff);
}

/** Seconds to move `bytes` through HBM in memory-bound kernels. */
export function memoryBoundSeconds(gpu: Gpu, bytes: number): number {
  return bytes / (gpu.hbm.bandwidth * gpu.efficiency.hbm);
}
