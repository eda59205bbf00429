/**
 * fp8 quantisation traffic per recipe and stack (src/step/costs/compute.ts fp8CastTraffic,
 * lowPrecisionCastSeconds): hand-worked bytes from torchao's roofline model
 * (torchao/testing/float8/roofline_utils.py get_tensor_memory_traffic_ovhd_s) and Transformer
 * Engine's fused cast-transpose, and the report of what stays unmodelled.
 */
import { describe, it, expect } from 'vitest';
import { fp8CastTraffic, lowPrecisionCastSeconds } from '../../src/step/costs/compute.js';
import { memoryBoundSeconds, gemmSeconds } from '../../src/system/compute.js';
import { SoftwareSchema, notModelled } from '../../src/schema/software.js';
import { tiny } from './helpers.js';

const hopper = { computeCapability: 9.0 };
const blackwell = { computeCapability: 10.0 };

describe('fp8CastTraffic', () => {
  it('torchao tensorwise: amax read 2 + cast read 2 writing both fp8 layouts (6); weight amax 2 + two casts of 3 (8)', () => {
    expect(fp8CastTraffic({ fp8Recipe: 'tensorwise', fp8Casts: 'torchao' }, hopper)).toEqual({ input: 6, gradOutput: 6, weight: 8, wgradBf16: false });
  });
  it('torchao rowwise: cast 3 + bf16 transpose 2 + cast of the transpose 3 (8); weight 3 + 4 + 3 (10)', () => {
    expect(fp8CastTraffic({ fp8Recipe: 'rowwise', fp8Casts: 'torchao' }, hopper)).toEqual({ input: 8, gradOutput: 8, weight: 10, wgradBf16: false });
  });
  it('torchao rowwise_with_gw_hp: one cast each (3), weight 6, the weight gradient in bf16', () => {
    expect(fp8CastTraffic({ fp8Recipe: 'rowwise-gw-hp', fp8Casts: 'torchao' }, hopper)).toEqual({ input: 3, gradOutput: 3, weight: 6, wgradBf16: true });
  });
  it('Transformer Engine on Hopper: delayed 4 (cast-transpose), current scaling 6 (an amax pass first)', () => {
    expect(fp8CastTraffic({ fp8Recipe: 'delayed', fp8Casts: 'transformer-engine' }, hopper)).toEqual({ input: 4, gradOutput: 4, weight: 4, wgradBf16: false });
    expect(fp8CastTraffic({ fp8Recipe: 'tensorwise', fp8Casts: 'transformer-engine' }, hopper).input).toBe(6);
  });
  it('Transformer Engine on Blackwell writes one fp8 layout for per-tensor recipes; MXFP8 writes both plus 1/32 scales', () => {
    expect(fp8CastTraffic({ fp8Recipe: 'tensorwise', fp8Casts: 'transformer-engine' }, blackwell).input).toBe(5);
    expect(fp8CastTraffic({ fp8Recipe: 'delayed', fp8Casts: 'transformer-engine' }, blackwell).input).toBe(3);
    expect(fp8CastTraffic({ fp8Recipe: 'mxfp8', fp8Casts: 'transformer-engine' }, blackwell).input).toBe(4.0625);
  });
  it('every recipe costs more than delayed scaling, and torchao rowwise more than tensorwise (the pair measured apart)', () => {
    const total = (t: ReturnType<typeof fp8CastTraffic>) => t.input + t.gradOutput + t.weight;
    const te = (r: 'delayed' | 'tensorwise' | 'mxfp8') => total(fp8CastTraffic({ fp8Recipe: r, fp8Casts: 'transformer-engine' }, hopper));
    expect(te('tensorwise')).toBeGreaterThan(te('delayed'));
    expect(te('mxfp8')).toBeGreaterThan(te('delayed'));
    expect(total(fp8CastTraffic({ fp8Recipe: 'rowwise', fp8Casts: 'torchao' }, hopper))).toBeGreaterThan(total(fp8CastTraffic({ fp8Recipe: 'tensorwise', fp8Casts: 'torchao' }, hopper)));
  });
});

describe('lowPrecisionCastSeconds', () => {
  const gpu = tiny().gpu;
  const m = 8192, k = 4096, n = 14336;
  const plan = { precision: 'fp8' as const, fp8Recipe: 'tensorwise' as const, fp8Casts: 'transformer-engine' as const, fp8WeightCast: 'per-micro-batch' as const, fp8PrimaryWeights: false, numMicroBatches: 8 };
  it('a third of the linear\'s forward+backward bytes per GEMM call (TE current scaling, Hopper: 6 B per element of x, dy and w)', () => {
    const g = { ...gpu, computeCapability: 9.0 };
    expect(lowPrecisionCastSeconds(g, plan, m, k, n)).toBeCloseTo(memoryBoundSeconds(g, (6 * m * k + 6 * m * n + 6 * k * n) / 3), 12);
  });
  it('a weight cast once per step (TE weight cache, or fp8 primary weights) is spread over the micro-batches', () => {
    const g = { ...gpu, computeCapability: 9.0 };
    expect(lowPrecisionCastSeconds(g, { ...plan, fp8PrimaryWeights: true }, m, k, n)).toBe(lowPrecisionCastSeconds(g, { ...plan, fp8WeightCast: 'per-step' }, m, k, n));
    expect(lowPrecisionCastSeconds(g, { ...plan, fp8WeightCast: 'per-step' }, m, k, n)).toBeCloseTo(memoryBoundSeconds(g, (6 * m * k + 6 * m * n + (6 / 8) * k * n) / 3), 12);
    expect(lowPrecisionCastSeconds(g, { ...plan, fp8WeightCast: 'per-step' }, m, k, n)).toBeLessThan(lowPrecisionCastSeconds(g, plan, m, k, n));
  });
  it('rowwise-gw-hp adds a third of the bf16-over-fp8 difference of the GEMM (the weight gradient runs in bf16)', () => {
    const g = { ...gpu, computeCapability: 9.0 };
    const p = { ...plan, fp8Recipe: 'rowwise-gw-hp' as const, fp8Casts: 'torchao' as const };
    const extra = (gemmSeconds(g, 'bf16', 2 * m * k * n) - gemmSeconds(g, 'fp8', 2 * m * k * n)) / 3;
    expect(lowPrecisionCastSeconds(g, p, m, k, n)).toBeCloseTo(memoryBoundSeconds(g, (3 * m * k + 3 * m * n + 6 * k * n) / 3) + extra, 12);
  });
  it('bf16 has no cast; fp4 keeps the flat 3 B per input and weight element', () => {
    expect(lowPrecisionCastSeconds(gpu, { ...plan, precision: 'bf16' }, m, k, n)).toBe(0);
    expect(lowPrecisionCastSeconds(gpu, { ...plan, precision: 'fp4' }, m, k, n)).toBeCloseTo(memoryBoundSeconds(gpu, 3 * (m * k + k * n)), 12);
  });
});

describe('fp8 settings reported as not modelled', () => {
  const plan = { precision: 'fp8' as const, tp: 1, ep: 1, recompute: 'none' as const };
  const sw = (lowPrecision: Record<string, unknown>) => SoftwareSchema.parse({ name: 't', lowPrecision });
  it('per-tensor recipes are costed; the block-scaled and rowwise GEMM kernels, and MXFP8 before Blackwell, are reported', () => {
    expect(notModelled(sw({ fp8Recipe: 'tensorwise' }), plan, 9.0)).toEqual([]);
    expect(notModelled(sw({ fp8Recipe: 'delayed' }), plan, 10.0)).toEqual([]);
    expect(notModelled(sw({ fp8Recipe: 'mxfp8' }), plan, 10.0)).toEqual(['fp8 recipe mxfp8 GEMM kernel (casts costed; the GEMM at per-tensor efficiency)']);
    expect(notModelled(sw({ fp8Recipe: 'mxfp8' }), plan, 9.0)[0]).toMatch(/mxfp8 before Blackwell/);
    expect(notModelled(sw({ fp8Recipe: 'rowwise' }), plan, 9.0)[0]).toMatch(/rowwise GEMM kernel/);
  });
  it('a stack\'s fp8NotModelled is reported for its fp8 runs only', () => {
    const s = sw({ fp8Recipe: 'delayed', fp8NotModelled: ['amax bookkeeping (costed as none)'] });
    expect(notModelled(s, plan, 9.0)).toEqual(['amax bookkeeping (costed as none)']);
    expect(notModelled(s, { ...plan, precision: 'bf16' }, 9.0)).toEqual([]);
  });
});
