/**
 * Shape-aware GEMM time (src/system/compute.ts): the efficiency curve is keyed on square GEMMs, and
 * an m×k×n GEMM reads it at the square with its arithmetic intensity. Hand-worked values from
 * NVIDIA's "Matrix Multiplication Background" User's Guide (DU-09799-001, ch. 2): intensity =
 * MNK / (MK + NK + MN) FLOPS/B at 2-byte elements; M×N×K = 8192×128×8192 gives 124.1 FLOPS/B and
 * 8192³ gives 2730.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { gemmIntensity, gemmShapeFactor, gemmSeconds, gemmShapeSeconds } from '../../src/system/compute.js';
import { tiny } from '../step/helpers.js';
import type { Gpu } from '../../src/schema/system.js';

/** The tiny scenario's GPU with a round two-point bf16 curve: 50 % at 1 GFLOP, 80 % at 1000 GFLOP. */
function roundGpu(): Gpu {
  const g = structuredClone(tiny().gpu);
  g.peakFlops = { bf16: 1e15 };
  g.efficiency.gemm = { bf16: [[1, 0.5], [1000, 0.8]] };
  return g;
}

describe('arithmetic intensity (NVIDIA Matrix Multiplication Background, ch. 2)', () => {
  it("the guide's examples: 8192×128×8192 is 124.1 FLOPS/B, 8192³ is 2730", () => {
    // gemmIntensity takes (m, k, n); the guide's M×N×K = 8192×128×8192 is m 8192, k 8192, n 128.
    expect(gemmIntensity(8192, 8192, 128)).toBeCloseTo(124.1, 1);
    expect(gemmIntensity(8192, 8192, 8192)).toBeCloseTo(2730.7, 1);
  });
  it('the shape factor: 1 for a square, (3·124.12)³ / (8192²·128) = 0.00601 for the skinny example', () => {
    expect(gemmShapeFactor(4096, 4096, 4096)).toBeCloseTo(1, 12);
    // equivalent edge 3 × 124.121 = 372.36; 372.36³ = 5.1630e7; 8192·8192·128 = 8.5899e9
    expect(gemmShapeFactor(8192, 8192, 128)).toBeCloseTo(0.006011, 5);
    expect(gemmShapeFactor(0, 8192, 128)).toBe(0);
  });
  it('property: in (0, 1], symmetric in m, k, n, and 1 only for a square', () => {
    const dim = fc.integer({ min: 1, max: 65536 });
    fc.assert(fc.property(dim, dim, dim, (m, k, n) => {
      const f = gemmShapeFactor(m, k, n);
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThanOrEqual(1);
      for (const [a, b, c] of [[k, n, m], [n, m, k], [k, m, n]]) expect(gemmShapeFactor(a, b, c)).toBeCloseTo(f, 12);
      if (m !== k || k !== n) expect(f).toBeLessThan(1 - 1e-12);
    }));
  });
});

describe('GEMM seconds by shape', () => {
  it('a square GEMM reads the curve exactly as before (keyed on its FLOPs)', () => {
    const g = roundGpu();
    // 2·1000³ = 2 GFLOP: 0.5 + 0.3·log(2)/log(1000) = 0.53010 efficiency
    const eff = 0.5 + (0.3 * Math.log(2)) / Math.log(1000);
    expect(gemmShapeSeconds(g, 'bf16', 1000, 1000, 1000)).toBeCloseTo(2e9 / (1e15 * eff), 15);
    expect(gemmShapeSeconds(g, 'bf16', 1000, 1000, 1000)).toBe(gemmSeconds(g, 'bf16', 2e9));
  });
  it("the guide's skinny GEMM reads the curve at its equivalent square: 17.18 GFLOP keyed as 0.103 GFLOP", () => {
    const g = roundGpu();
    const flops = 2 * 8192 * 8192 * 128; // 17.18 GFLOP
    // By FLOPs alone: 0.5 + 0.3·log(17.18)/log(1000) = 0.6235. Its equivalent square has
    // 17.18 × 0.006011 = 0.1033 GFLOP, below the curve's first point: 0.5, so 25 % slower.
    expect(gemmSeconds(g, 'bf16', flops)).toBeCloseTo(flops / (1e15 * 0.62350), 9);
    expect(gemmShapeSeconds(g, 'bf16', 8192, 8192, 128)).toBeCloseTo(flops / (1e15 * 0.5), 12);
  });
  it('a batch of GEMMs reads the curve at the batch of equivalent squares', () => {
    const g = roundGpu();
    // 64 GEMMs 2048×128×2048 (attention scores of 64 heads): 2·2048²·128 = 1.0737 GFLOP each;
    // intensity 113.78, equivalent edge 341.33, 2·341.33³ = 0.079536 GFLOP per square, ×64 = 5.0903.
    const flops = 64 * 2 * 2048 * 128 * 2048;
    const eff = 0.5 + (0.3 * Math.log(64 * 2 * 341.333 ** 3 / 1e9)) / Math.log(1000);
    expect(gemmShapeSeconds(g, 'bf16', 2048, 128, 2048, 64)).toBeCloseTo(flops / (1e15 * eff), 9);
  });
  it('property: at equal FLOPs no shape is faster than the square', () => {
    const g = roundGpu();
    const pow = fc.integer({ min: 6, max: 16 });
    fc.assert(fc.property(pow, pow, pow, (a, b, c) => {
      const [m, k, n] = [2 ** a, 2 ** b, 2 ** c];
      const edge = Math.cbrt(m * k * n);
      expect(gemmShapeSeconds(g, 'bf16', m, k, n)).toBeGreaterThanOrEqual(gemmShapeSeconds(g, 'bf16', edge, edge, edge) * (1 - 1e-12));
    }));
  });
});
