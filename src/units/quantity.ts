/**
 * Quantities with units. Files carry human units ("80 GiB", "450 GB/s", "400 Gb/s",
 * "989 TFLOP/s", "54 days"); the core works in SI base numbers (bytes, bytes/s, FLOP/s, s).
 * Units are parsed by mathjs's unit parser only; no expression is ever evaluated.
 */
import { createRequire } from 'node:module';

/** The physical kinds a field can hold; each maps to the base unit the core works in. */
export type Dimension =
  | 'bytes'
  | 'bytesPerSecond'
  | 'flopsPerSecond'
  | 'seconds'
  | 'watts'
  | 'count'
  | 'usd'
  | 'usdPerGpuHour'
  | 'fraction';

// FLOP is a count, so a FLOP rate has the dimension of a frequency: "989 TFLOP/s" is read as
// "989 THz" (mathjs's createUnit would cost ~80 ms of start-up). Money is not a physical unit
// and is read by a pattern, not by mathjs.
const baseUnit: Record<Dimension, string | null> = {
  bytes: 'B',
  bytesPerSecond: 'B/s',
  flopsPerSecond: 'Hz',
  seconds: 's',
  watts: 'W',
  count: null,
  usd: null,
  usdPerGpuHour: null,
  fraction: null,
};

const example: Record<Dimension, string> = {
  bytes: '"80 GiB"',
  bytesPerSecond: '"450 GB/s" or "400 Gb/s"',
  flopsPerSecond: '"989 TFLOP/s"',
  seconds: '"54 days" or "30 min"',
  watts: '"700 W"',
  count: '16384, "15.6e12" or "15.6T" (suffixes k, M, B or G, T)',
  usd: '"1.5e6 USD"',
  usdPerGpuHour: '2.5 or "2.5 USD/h"',
  fraction: '0.9 or "90%"',
};

interface MathUnit {
  equalBase(other: MathUnit): boolean;
  toNumber(unit: string): number;
}
interface MathInstance {
  unit(s: string): MathUnit;
}

// The single-file build of mathjs loads in ~50 ms; the ESM entry pulls in ~500 ms of modules,
// which alone would break the 300 ms start-up budget of `evaluate`.
let mathInstance: MathInstance | null = null;
function math(): MathInstance {
  if (!mathInstance) mathInstance = createRequire(import.meta.url)('mathjs/lib/browser/math.js') as MathInstance;
  return mathInstance;
}

const NUM = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';
const plainNumber = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/**
 * Suffixes a count may carry (README, "Files"): k or K thousand, M million, B or G billion, T
 * trillion. Case matters where it could mislead: "m" (milli in SI) and "t", "b", "g" are refused,
 * so "5 m" tokens is an error, not 5 million.
 */
const countSuffix: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12 };
const countWithSuffix = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMBGT])?\s*([Tt]okens?|[Ss]equences?|[Ss]amples?|GPUs?|gpus?|[Nn]odes?)?$/;

/** Result of parsing: a number in the dimension's base unit, or why it could not be read. */
export type ParseResult = { ok: true; value: number } | { ok: false; reason: string };

/** Parses a number or a unit string into the base unit of `dim` (bytes, B/s, FLOP/s, s, W, ...). */
export function parseQuantity(input: unknown, dim: Dimension): ParseResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, reason: `expected a finite number, got ${input}` };
    if (needsUnit(dim, input)) return { ok: false, reason: missingUnit(dim, String(input)) };
    return { ok: true, value: input };
  }
  if (typeof input !== 'string') {
    return { ok: false, reason: `expected a number or a string with units such as ${example[dim]}, got ${describe(input)}` };
  }
  const text = input.trim();
  if (text === '') return { ok: false, reason: `expected a value such as ${example[dim]}, got an empty string` };
  if (plainNumber.test(text)) {
    if (needsUnit(dim, Number(text))) return { ok: false, reason: missingUnit(dim, JSON.stringify(input)) };
    return finite(Number(text), input);
  }
  if (dim === 'count') {
    const m = countWithSuffix.exec(text);
    if (!m) return { ok: false, reason: `expected a count such as ${example[dim]}, got "${input}"` };
    const mult = m[2] ? countSuffix[m[2]] : 1;
    return finite(Number(m[1]) * mult, input);
  }
  if (dim === 'fraction') {
    const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*%$/.exec(text);
    if (!m) return { ok: false, reason: `expected a fraction such as ${example[dim]}, got "${input}"` };
    return finite(Number(m[1]) / 100, input);
  }
  if (dim === 'usd' || dim === 'usdPerGpuHour') {
    const per = dim === 'usdPerGpuHour' ? '(?:\\s*/\\s*(?:GPU[- ]?)?(?:h|hr|hour))?' : '';
    const m = new RegExp(`^(?:\\$\\s*(${NUM})|(${NUM})\\s*(?:USD|usd|\\$))${per}$`).exec(text);
    if (m) return finite(Number(m[1] ?? m[2]), input);
    return { ok: false, reason: `could not read "${input}" as money; expected e.g. ${example[dim]}` };
  }
  // Only a "<number> <unit>" shape goes to the unit parser, so nothing that looks like an
  // expression (function calls, assignments, operators between numbers) is ever handed to mathjs.
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*[A-Za-z$%][A-Za-z0-9/ ^*$%]*$/.test(text)) {
    return { ok: false, reason: `could not read "${input}" as a quantity; expected e.g. ${example[dim]}` };
  }
  const key = `${dim}|${text}`;
  const known = unitMemo.get(key);
  if (known !== undefined) return { ok: true, value: known };
  const base = baseUnit[dim] as string;
  let unit: MathUnit;
  try {
    unit = math().unit(normaliseUnitText(dim === 'flopsPerSecond' ? text.replace(/([A-Za-z]?)FLOPS?(?:\/s)?$|([A-Za-z]?)FLOPs\/s$|([A-Za-z]?)flops?(?:\/s)?$/, (_m, a, b, c) => `${a ?? b ?? c ?? ''}Hz`) : text));
  } catch (e) {
    return { ok: false, reason: `unknown unit in "${input}" (${(e as Error).message}); expected e.g. ${example[dim]}` };
  }
  let expected: MathUnit;
  try {
    expected = math().unit(`1 ${base}`);
  } catch {
    return { ok: false, reason: `internal: cannot build unit ${base}` };
  }
  if (!unit.equalBase(expected)) {
    return { ok: false, reason: `"${input}" is not ${dimensionName(dim)}; expected e.g. ${example[dim]}` };
  }
  const parsed = finite(unit.toNumber(base), input);
  if (parsed.ok) unitMemo.set(key, parsed.value);
  return parsed;
}

// Results of the unit parser by (dimension, text). Filled as strings are parsed, and primed at
// start-up with the strings of the bundled files (parsed by mathjs at build time, see
// src/io/unit-cache.ts), so a run that reads only bundled profiles need not load mathjs.
const unitMemo = new Map<string, number>();

/** Adds previously parsed (dimension|text → base value) entries to the memo. */
export function primeUnitMemo(entries: Record<string, number>): void {
  for (const [k, v] of Object.entries(entries)) if (Number.isFinite(v)) unitMemo.set(k, v);
}

/** The memo's current entries, for writing the build-time cache. */
export function unitMemoEntries(): Record<string, number> {
  return Object.fromEntries([...unitMemo.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** mathjs spells days "day"/"days" and hours "h"/"hour"; accept the common abbreviations too. */
function normaliseUnitText(text: string): string {
  return text
    .replace(/(\d)\s*d$/, '$1 day')
    .replace(/\bhrs?\b/g, 'hour')
    .replace(/\bmins\b/g, 'min')
    .replace(/\bsecs?\b/g, 's')
    .replace(/\bus\b/g, 'microsecond');
}

/**
 * A bare number in a field with a physical unit is refused (issue 14): `hbm.capacity: 80` would
 * otherwise be read as 80 bytes. Zero is the same in every unit and stays accepted; counts,
 * fractions and money take bare numbers.
 */
function needsUnit(dim: Dimension, value: number): boolean {
  return baseUnit[dim] !== null && value !== 0;
}

function missingUnit(dim: Dimension, shown: string): string {
  return `${shown} has no unit; write ${dimensionName(dim)} with its unit, e.g. ${example[dim]}`;
}

function finite(value: number, input: string): ParseResult {
  if (!Number.isFinite(value)) return { ok: false, reason: `"${input}" is not a finite number` };
  return { ok: true, value };
}

function dimensionName(dim: Dimension): string {
  switch (dim) {
    case 'bytes': return 'an amount of memory or data (bytes)';
    case 'bytesPerSecond': return 'a bandwidth (bytes or bits per second)';
    case 'flopsPerSecond': return 'a compute rate (FLOP/s)';
    case 'seconds': return 'a duration';
    case 'watts': return 'a power';
    case 'usd': return 'an amount of money';
    case 'usdPerGpuHour': return 'a price per GPU-hour';
    default: return dim;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
