import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { formatInt } from '../../src/units/format.js';

/** The plain formatter must print exactly what `toLocaleString('en-US')` prints (goldens depend on it). */
describe('formatInt', () => {
  it('matches toLocaleString("en-US") on hand-picked integers', () => {
    for (const n of [0, -0, 1, -1, 999, 1000, -1000, 12345, 999999, 1000000, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e20, 123456789012345680000, 1e21, 1.5e22, -7.25e30, Number.MAX_VALUE, NaN, Infinity, -Infinity]) {
      expect(formatInt(n)).toBe(n.toLocaleString('en-US'));
    }
    expect(formatInt(1234567)).toBe('1,234,567');
    expect(formatInt(-1000)).toBe('-1,000');
  });

  it('matches toLocaleString("en-US") on random whole numbers of every size', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true }).map((x) => Math.round(x)), fc.double({ min: -1e7, max: 1e7, noNaN: true }).map((x) => Math.round(x))), (n) => {
        expect(formatInt(n)).toBe(n.toLocaleString('en-US'));
      }),
      { numRuns: 3000 },
    );
  });

  it('passes a fraction to toLocaleString (its rounding is ICU\'s)', () => {
    fc.assert(fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (x) => { expect(formatInt(x)).toBe(x.toLocaleString('en-US')); }), { numRuns: 500 });
  });
});
