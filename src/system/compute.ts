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

/** Seconds for one GEMM of `flops` FLOPs at `precision`, from peak × size-dependent efficiency. */
export function gemmSeconds(gpu: Gpu, precision: Precision, flops: number): number {
  if (flops <= 0) return 0;
  const p = gemmPrecision(gpu, precision);
  const curve = (p === 'fp4' ? gpu.efficiency.gemm.fp4 ?? gpu.efficiency.gemm.fp8 : p === 'fp8' ? gpu.efficiency.gemm.fp8 : undefined) ?? gpu.efficiency.gemm.bf16;
  const eff = interpolateCurve(curve, flops / 1e9);
  const seconds = flops / (peakFlopsPerSecond(gpu, p) * eff);
  return p === 'bf16' ? seconds : seconds * (1 + gpu.efficiency.fp8Overhead);
}

/**
 * Seconds for `batch` GEMMs of an m×k by k×n product (2mnk FLOPs each), by the roofline of NVIDIA's
 * "Matrix Multiplication Background" guide (ch. 2 "Math And Memory Bounds"): the longer of the
 * math time (peak × the profile's size curve, keyed on the FLOPs as for a square GEMM) and the
 * memory time, reading A and B at the GEMM's precision and writing C in 16 bits once each
 * (mk + kn inputs, mn outputs) at the profile's HBM rate for memory-bound kernels. A GEMM whose
 * arithmetic intensity, mnk / (mk + kn + mn) FLOPs per byte at 2-byte elements, is below the
 * GPU's FLOPs-per-byte ratio is memory-limited (the guide's 8192×128×8192 example: 124.1 against
 * V100's 138.9); a large square one (intensity s/3) is math-limited and gets the curve's value.
 */
export function gemmShapeSeconds(gpu: Gpu, precision: Precision, m: number, k: number, n: number, batch = 1): number {
  if (m <= 0 || k <= 0 || n <= 0 || batch <= 0) return 0;
  const p = gemmPrecision(gpu, precision);
  const inputBytes = p === 'fp4' ? 0.5 : p === 'fp8' ? 1 : 2;
  const math = gemmSeconds(gpu, precision, 2 * m * k * n * batch);
  const memory = memoryBoundSeconds(gpu, batch * (inputBytes * (m * k + k * n) + 2 * m * n));
  return Math.max(math, memory);
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
