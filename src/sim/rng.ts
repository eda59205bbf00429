/**
 * Seeded random number generation for reproducible simulations.
 *
 * Everything random in the simulator must flow from an explicit seed so that a
 * scenario and seed reproduce bit-for-bit; Math.random is never used. Monte Carlo
 * trial i draws from its own stream, deriveSeed(seed, i), so trials are
 * independent of how many draws other trials made and of execution order.
 */

import seedrandom from 'seedrandom';
import { invariant } from './invariant.js';

/** Seed of a random stream: numbers are used through their decimal string form. */
export type Seed = number | string;

/** Seed string for substream `index` (integer >= 0) of `seed`, e.g. Monte Carlo trial `index`. */
export function deriveSeed(seed: Seed, index: number): string {
  invariant(typeof seed === 'string' || Number.isFinite(seed), `deriveSeed: seed must be a string or finite number, got ${seed}`);
  if (!(Number.isSafeInteger(index) && index >= 0)) invariant(false, `deriveSeed: index must be a safe integer >= 0, got ${index}`);
  // A readable, hierarchical derivation: deriveSeed(deriveSeed(s, i), j) = "s/i/j". Alea hashes the
  // whole string (Mash), so neighbouring indices give unrelated streams.
  return `${seed}/${index}`;
}

/** A seeded generator. Distribution parameters are in the caller's units (e.g. seconds for a mean time). */
export class Rng {
  private readonly prng: seedrandom.PRNG;
  // Box-Muller yields normals in pairs; the second is kept for the next call.
  private spareNormal = 0;
  private hasSpare = false;

  /** A generator whose whole output is determined by `seed`. */
  constructor(readonly seed: string) {
    this.prng = seedrandom.alea(seed);
  }

  /** Uniform sample in [0, 1) with 53 bits of resolution. */
  uniform(): number {
    return this.prng.double();
  }

  /** Uniform sample in [lo, hi). */
  uniformRange(lo: number, hi: number): number {
    return lo + (hi - lo) * this.prng.double();
  }

  /** Uniform integer in [0, n) for an integer n >= 1. */
  int(n: number): number {
    if (!(Number.isInteger(n) && n >= 1)) invariant(false, `Rng.int: n must be an integer >= 1, got ${n}`);
    return Math.floor(this.prng.double() * n);
  }

  /** True with probability `p` in [0, 1]. */
  bernoulli(p: number): boolean {
    return this.prng.double() < p;
  }

  /** Exponential sample with mean `mean` (> 0), e.g. seconds between failures. */
  exponential(mean: number): number {
    if (!(mean > 0)) invariant(false, `Rng.exponential: mean must be > 0, got ${mean}`);
    // log1p(-u) with u in [0,1) is finite and accurate for small u.
    return -mean * Math.log1p(-this.prng.double());
  }

  /** Weibull sample with scale `scale` (> 0, in output units) and shape `shape` (> 0; 1 = exponential). */
  weibull(scale: number, shape: number): number {
    if (!(scale > 0 && shape > 0)) invariant(false, `Rng.weibull: scale and shape must be > 0, got ${scale}, ${shape}`);
    return scale * Math.pow(-Math.log1p(-this.prng.double()), 1 / shape);
  }

  /** Normal sample with mean `mean` and standard deviation `sd` (>= 0). */
  normal(mean: number, sd: number): number {
    if (!(sd >= 0)) invariant(false, `Rng.normal: sd must be >= 0, got ${sd}`);
    if (this.hasSpare) {
      this.hasSpare = false;
      return mean + sd * this.spareNormal;
    }
    // 1 - u lies in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.prng.double()));
    const theta = 2 * Math.PI * this.prng.double();
    this.spareNormal = r * Math.sin(theta);
    this.hasSpare = true;
    return mean + sd * r * Math.cos(theta);
  }

  /** Log-normal sample whose underlying normal has mean `mu` and standard deviation `sigma`. */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** An independent generator for substream `index` of this one's seed. */
  fork(index: number): Rng {
    return new Rng(deriveSeed(this.seed, index));
  }
}

/** Create a seeded generator from `seed`. */
export function createRng(seed: Seed): Rng {
  invariant(typeof seed === 'string' || Number.isFinite(seed), `createRng: seed must be a string or finite number, got ${seed}`);
  return new Rng(String(seed));
}
