/**
 * GEMM time by shape (src/system/compute.ts gemmShapeSeconds): the roofline of NVIDIA's "Matrix
 * Multiplication Background" User's Guide (DU-09799-001, ch. 2 "Math And Memory Bounds"): the
 * longer of the math time and the time to move A, B and C once. Arithmetic intensity at 2-byte
 * elements is MNK / (MK + NK + MN) FLOPS/B; the guide's example M×N×K = 8192×128×8192 has 124.1
 * and is memory-limited on a V100 (138.9 FLOPS:B), 8192³ has 2730 and is math-limited.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { gemmSeconds, gemmShapeSeconds, memoryBoundSeconds } from '../../src/system/compute.js';
import { tiny } from '../step/helpers.js';
import type { Gpu } from '../../src/schema/system.js';

/**
 * A V100-like GPU with round numbers: 125 TFLOP/s dense peak and 0.9 TB/s HBM at full efficiency
 * (FLOPS:B 138.9, the guide's V100 figure), and a flat 100 % GEMM curve so the math time is FLOPs/peak.
 */
function v100Like(): Gpu {
  const g = structuredClone(tiny().gpu);
  g.peakFlops = { bf16: 125e12 };
  g.hbm.bandwidth = 0.9e12;
  g.efficiency.hbm = 1;
  g.efficiency.gemm = { bf16: [[1, 1], [1000, 1]] };
  return g;
}

describe('GEMM roofline (NVIDIA Matrix Multiplication Background, ch. 2)', () => {
  it("the guide's 8192×128×8192 GEMM (124.1 FLOPS/B) is memory-limited on a V100-like GPU", () => {
    const g = v100Like();
    // m 8192 (M), k 8192 (K), n 128 (N). Bytes: 2·(8192·8192 + 8192·128) + 2·8192·128 = 138,412,032.
    const bytes = 2 * (8192 * 8192 + 8192 * 128) + 2 * 8192 * 128;
    expect(bytes).toBe(138_412_032);
    const flops = 2 * 8192 * 8192 * 128; // 17.18 GFLOP
    expect(flops / bytes).toBeCloseTo(124.1, 1);
    // math 17.18e9 / 125e12 = 137.4 µs; memory 138.41e6 / 0.9e12 = 153.8 µs: memory-limited
    expect(gemmSeconds(g, 'bf16', flops)).toBeCloseTo(137.44e-6, 8);
    expect(gemmShapeSeconds(g, 'bf16', 8192, 8192, 128)).toBeCloseTo(153.79e-6, 8);
  });
  it("8192³ (2730 FLOPS/B) is math-limited: exactly the size curve's time", () => {
    const g = v100Like();
    const flops = 2 * 8192 ** 3;
    // math 1.0995e12 / 125e12 = 8.796 ms; memory 2·3·8192² B / 0.9e12 = 0.447 ms
    expect(gemmShapeSeconds(g, 'bf16', 8192, 8192, 8192)).toBe(gemmSeconds(g, 'bf16', flops));
    expect(gemmShapeSeconds(g, 'bf16', 8192, 8192, 8192)).toBeCloseTo(8.796e-3, 6);
  });
  it('fp8 reads its inputs at 1 byte and writes a 16-bit output', () => {
    const g = v100Like();
    g.peakFlops = { bf16: 125e12, fp8: 250e12 };
    g.efficiency.gemm.fp8 = [[1, 1], [1000, 1]];
    g.efficiency.fp8Overhead = 0;
    // 8192×8192×128: bytes 8192·8192 + 8192·128 + 2·8192·128 = 70,254,592 → 78.06 µs > math 68.7 µs
    expect(gemmShapeSeconds(g, 'fp8', 8192, 8192, 128)).toBeCloseTo(70_254_592 / 0.9e12, 12);
  });
  it('a batch of GEMMs moves each one its operands', () => {
    const g = v100Like();
    expect(gemmShapeSeconds(g, 'bf16', 8192, 8192, 128, 4)).toBeCloseTo(4 * gemmShapeSeconds(g, 'bf16', 8192, 8192, 128), 12);
    expect(gemmShapeSeconds(g, 'bf16', 0, 8192, 128)).toBe(0);
  });
  it('property: never faster than either bound, and equal to one of them', () => {
    const sc = tiny();
    const dim = fc.integer({ min: 1, max: 1 << 16 });
    fc.assert(fc.property(dim, dim, dim, fc.constantFrom('bf16' as const, 'fp8' as const), (m, k, n, p) => {
      const t = gemmShapeSeconds(sc.gpu, p, m, k, n);
      const math = gemmSeconds(sc.gpu, p, 2 * m * k * n);
      const bytes = (sc.gpu.peakFlops.fp8 !== undefined && p === 'fp8' ? 1 : 2) * (m * k + k * n) + 2 * m * n;
      const memory = memoryBoundSeconds(sc.gpu, bytes);
      expect(t).toBeGreaterThanOrEqual(math);
      expect(t).toBeGreaterThanOrEqual(memory);
      expect(t === math || t === memory).toBe(true);
    }));
  });
});
