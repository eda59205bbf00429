/** Shared zod building blocks: quantities with units, bounded integers, profile references. */
import { z } from 'zod';
import { parseQuantity, type Dimension } from '../units/quantity.js';

interface Bounds {
  /** Smallest accepted value (inclusive) in base units. */
  min?: number;
  /** Largest accepted value (inclusive) in base units; guards against absurd inputs. */
  max?: number;
  /** Reject zero (and below). */
  positive?: boolean;
}

/** A number or unit string parsed into the base unit of `dim`, with sanity bounds. */
export function quantity(dim: Dimension, bounds: Bounds = {}) {
  return z
    .union([z.number(), z.string()])
    .transform((input, ctx) => {
      const r = parseQuantity(input, dim);
      if (!r.ok) {
        ctx.addIssue({ code: 'custom', message: r.reason });
        return z.NEVER;
      }
      const v = r.value;
      if (bounds.positive && !(v > 0)) {
        ctx.addIssue({ code: 'custom', message: `must be greater than zero, got ${JSON.stringify(input)}` });
        return z.NEVER;
      }
      if (bounds.min !== undefined && v < bounds.min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${bounds.min} (base units), got ${JSON.stringify(input)}` });
        return z.NEVER;
      }
      if (bounds.max !== undefined && v > bounds.max) {
        ctx.addIssue({ code: 'custom', message: `is implausibly large: ${JSON.stringify(input)} exceeds ${bounds.max} (base units)` });
        return z.NEVER;
      }
      return v;
    });
}

/** A positive integer no larger than `max` (a guard against absurd sizes such as 10^30 GPUs). */
export function posInt(max: number) {
  return z.number().int().min(1).max(max);
}

/** A non-negative integer no larger than `max`. */
export function nonNegInt(max: number) {
  return z.number().int().min(0).max(max);
}

/** A count that may be written with a suffix ("15.6T", "16M tokens") or as a number. */
export function count(max: number, positive = true) {
  return quantity('count', { positive, min: 0, max });
}

/** A fraction in [0, 1] ("0.9" or "90%"). */
export function fraction() {
  return quantity('fraction', { min: 0, max: 1 });
}

/** A reference to a named profile, or the profile written inline. */
export function profileRef<T extends z.ZodType>(schema: T) {
  return z.union([z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'profile names are lower-case letters, digits, ".", "_" and "-"'), schema]);
}
