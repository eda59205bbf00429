/** Human-readable formatting of SI numbers for reports. */

const GiB = 1024 ** 3;

/** Formats bytes as GiB with one decimal ("71.3 GiB"). */
export function formatGiB(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** Formats a duration in seconds with a fitting unit. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const abs = Math.abs(seconds);
  if (abs >= 86400 * 2) return `${(seconds / 86400).toFixed(1)} days`;
  if (abs >= 3600 * 2) return `${(seconds / 3600).toFixed(1)} h`;
  if (abs >= 120) return `${(seconds / 60).toFixed(1)} min`;
  if (abs >= 1) return `${seconds.toFixed(2)} s`;
  if (abs >= 1e-3) return `${(seconds * 1e3).toFixed(1)} ms`;
  return `${(seconds * 1e6).toFixed(1)} µs`;
}

/** Formats a number with SI suffixes (k, M, G, T, P) and `digits` significant decimals. */
export function formatSi(value: number, digits = 2): string {
  const abs = Math.abs(value);
  const units: [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, suffix] of units) if (abs >= scale) return `${(value / scale).toFixed(digits)}${suffix}`;
  return value.toFixed(digits);
}

/** Formats a fraction as a percentage ("41.2%"). */
export function formatPercent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

export const BYTES_PER_GIB = GiB;

/** Formats a count of parameters or tokens with K/M/B/T suffixes ("405.9B"). */
export function formatCount(value: number, digits = 1): string {
  const abs = Math.abs(value);
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, suffix] of units) if (abs >= scale) return `${(value / scale).toFixed(digits)}${suffix}`;
  return value.toFixed(0);
}

/** Formats a FLOP count with an SI prefix ("2.52 TFLOP"). */
export function formatFlop(flop: number, digits = 2): string {
  return formatSi(flop, digits).replace(/([kMGTP])$/, ' $1') + 'FLOP';
}

/**
 * A whole number with en-US thousands separators ("1,234,567"), byte-identical to
 * `n.toLocaleString('en-US')` for every integer (negative zero, non-finite values and numbers
 * past 1e21 included: digits as JavaScript's shortest decimal gives them, zero-padded), without
 * ICU: the first `toLocaleString` in a process sets up ICU's number formatting (about 7 ms of a
 * cold `evaluate`), which a start-up snapshot cannot hold. A non-integer is passed to
 * `toLocaleString` (its rounding to 3 decimals is ICU's; no report prints one).
 */
export function formatInt(n: number): string {
  if (!Number.isInteger(n)) return Number.isNaN(n) ? 'NaN' : n === Infinity ? '∞' : n === -Infinity ? '-∞' : n.toLocaleString('en-US');
  const negative = n < 0 || Object.is(n, -0);
  let digits = String(negative ? -n : n);
  const e = digits.indexOf('e+');
  if (e >= 0) {
    // 1.2345e+21 → 1234500000000000000000
    const mantissa = digits.slice(0, e).replace('.', '');
    digits = mantissa + '0'.repeat(Number(digits.slice(e + 2)) + 1 - mantissa.length);
  }
  let i = digits.length % 3 || 3;
  let out = digits.slice(0, i);
  for (; i < digits.length; i += 3) out += ',' + digits.slice(i, i + 3);
  return negative ? '-' + out : out;
}

/** A quantity rounded to the nearest whole number, with thousands separators (formatInt). */
export function formatWhole(x: number): string {
  return formatInt(Math.round(x));
}
