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
