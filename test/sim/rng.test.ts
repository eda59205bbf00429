import { describe, it, expect } from 'vitest';
import { createRng, deriveSeed, Rng } from '../../src/sim/index.js';

function draw(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.uniform());
}

describe('rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(draw(createRng(7), 100)).toEqual(draw(createRng(7), 100));
    expect(draw(createRng('7'), 10)).toEqual(draw(createRng(7), 10)); // numbers seed via their string form
    expect(draw(createRng(7), 10)).not.toEqual(draw(createRng(8), 10));
  });

  it('deriveSeed gives each Monte Carlo trial its own reproducible stream', () => {
    expect(deriveSeed(42, 3)).toBe(deriveSeed(42, 3));
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => deriveSeed(42, i)));
    expect(seeds.size).toBe(1000);
    expect(deriveSeed(42, 1)).not.toBe(deriveSeed(43, 1));
    const first = Array.from({ length: 50 }, (_, i) => createRng(deriveSeed(42, i)).uniform());
    expect(new Set(first).size).toBe(50);
    // A trial's stream does not depend on the other trials' draws.
    const r5 = createRng(deriveSeed('s', 5));
    createRng(deriveSeed('s', 4)).uniform();
    expect(draw(r5, 5)).toEqual(draw(createRng(deriveSeed('s', 5)), 5));
    expect(createRng('x').fork(2).seed).toBe(deriveSeed('x', 2));
    expect(() => deriveSeed(1, -1)).toThrow(/index/);
    expect(() => deriveSeed(1, 1.5)).toThrow(/index/);
  });

  it('uniform samples lie in [0, 1)', () => {
    const rng = createRng('u');
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 10000; i++) {
      const u = rng.uniform();
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    // One assertion on the extremes instead of one per sample (an expect per sample cost seconds).
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
  });

  it('exponential sample mean is within the 99% confidence interval of the mean (100k samples)', () => {
    const n = 100_000;
    for (const [seed, mean] of [
      [1, 1],
      [2, 3600],
      ['mtbf', 0.25],
    ] as const) {
      const rng = createRng(seed);
      let sum = 0;
      let min = Infinity;
      for (let i = 0; i < n; i++) {
        const x = rng.exponential(mean);
        min = Math.min(min, x);
        sum += x;
      }
      expect(min).toBeGreaterThanOrEqual(0);
      // The exponential's sd equals its mean, so the sample mean's sd is mean / sqrt(n).
      const halfWidth = (2.5758 * mean) / Math.sqrt(n);
      expect(Math.abs(sum / n - mean)).toBeLessThan(halfWidth);
    }
  });

  it('weibull with shape 1 is exponential and scales by Gamma(1 + 1/k)', () => {
    const n = 100_000;
    const rng = createRng('w');
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      s1 += rng.weibull(10, 1);
      s2 += rng.weibull(10, 2);
    }
    expect(Math.abs(s1 / n - 10)).toBeLessThan((2.5758 * 10) / Math.sqrt(n));
    // Weibull(scale 10, shape 2): mean = 10 * Gamma(1.5) = 10 * sqrt(pi)/2; sd = 10 * sqrt(1 - pi/4).
    const mean2 = (10 * Math.sqrt(Math.PI)) / 2;
    const sd2 = 10 * Math.sqrt(1 - Math.PI / 4);
    expect(Math.abs(s2 / n - mean2)).toBeLessThan((2.5758 * sd2) / Math.sqrt(n));
  });

  it('normal has the requested mean and standard deviation', () => {
    const n = 100_000;
    const rng = createRng('n');
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal(5, 2);
      sum += x;
      sq += x * x;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean - 5)).toBeLessThan((2.5758 * 2) / Math.sqrt(n));
    expect(sd).toBeCloseTo(2, 1);
  });

  it('rejects invalid parameters', () => {
    const rng = createRng(1);
    expect(() => rng.exponential(0)).toThrow(/mean/);
    expect(() => rng.weibull(1, 0)).toThrow(/shape/);
    expect(() => rng.normal(0, -1)).toThrow(/sd/);
    expect(() => rng.int(0)).toThrow();
    expect(() => createRng(NaN)).toThrow(/seed/);
  });
});
