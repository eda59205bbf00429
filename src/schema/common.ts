/** Shared zod building blocks: quantities with units, bounded integers, profile references. */
import { z } from 'zod';

import { parseQuantity, type Dimension } from '../units/quantity.js';
import { formatInt } from '../units/format.js';

/**
 * Process-wide zod setting for the CLI, called once at start-up (not an import side effect):
 * files are parsed once per run, and zod's code-generated fast path costs more to compile than it
 * saves (~20 ms of start-up), so parse without it. Results are the same either way.
 */
export function configureZodForCli(): void {
  z.config({ jitless: true });
}

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
        const message = bounds.min === 0
          ? `must not be negative, got ${JSON.stringify(input)}`
          : `is implausibly small: ${JSON.stringify(input)} is below ${formatBound(bounds.min, dim)}`;
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      if (bounds.max !== undefined && v > bounds.max) {
        ctx.addIssue({ code: 'custom', message: `is implausibly large: ${JSON.stringify(input)} exceeds ${formatBound(bounds.max, dim)}` });
        return z.NEVER;
      }
      return v;
    });
}

/** A positive integer no larger than `max` (a guard against absurd sizes such as 10^30 GPUs). */
export function posInt(max: number) {
  // Range before int(): int() also caps at 2^53, which would otherwise be reported for 1e30.
  return z.number().min(1).max(max).int();
}

/** A non-negative integer no larger than `max`. */
export function nonNegInt(max: number) {
  return z.number().min(0).max(max).int();
}

/** A count that may be written with a suffix ("15.6T", "16M tokens") or as a number. */
export function count(max: number, positive = true) {
  return quantity('count', { positive, min: 0, max });
}

/** A fraction in [0, 1] ("0.9" or "90%"). */
export function fraction() {
  return quantity('fraction', { min: 0, max: 1 });
}

/**
 * An efficiency that rates and times are divided by: above zero and at least 1e-4 (0.01%), as
 * anything smaller is absurd and overflows run totals to Infinity. `max` above 1 for busbw
 * ratios that can exceed the line rate (NVLS).
 */
export function efficiency(max = 1) {
  return quantity('fraction', { positive: true, min: 1e-4, max });
}

const unitLabel: Record<Dimension, string> = {
  bytes: ' B',
  bytesPerSecond: ' B/s',
  flopsPerSecond: ' FLOP/s',
  seconds: ' s',
  watts: ' W',
  count: '',
  usd: ' USD',
  usdPerGpuHour: ' USD/h',
  fraction: '',
};

/** A bound in the dimension's base unit for messages: "1,000,000 B/s", "1e+18", "0.0001". */
function formatBound(v: number, dim: Dimension): string {
  const n = Number.isInteger(v) && Math.abs(v) < 1e16 ? formatInt(v) : Math.abs(v) >= 1e16 ? v.toExponential() : String(v);
  return n + unitLabel[dim];
}

/**
 * A name printed in reports: one line of text, 200 characters at most, no control characters
 * (escape sequences in a shared file must not reach the reader's terminal).
 */
export function displayName() {
  // eslint-disable-next-line no-control-regex
  return z.string().max(200).regex(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, 'must not contain control characters (tabs, newlines, escape sequences)');
}

/** A reference to a named profile, or the profile written inline. */
export function profileRef<T extends z.ZodType>(schema: T) {
  return z.union([z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'profile names are lower-case letters, digits, ".", "_" and "-"'), schema]);
}
