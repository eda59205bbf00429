/**
 * Options shared by the commands that read a scenario (`evaluate`, `trace`, `failures`) and the
 * output options (`--json`, `--engine`), declared once, with strict readers: every value a user
 * can type is either accepted as documented or refused as a UserError (exit 2, one line).
 */
import type { Argv } from 'yargs';
import { UserError } from '../errors.js';
import { batchGrid } from '../search/space.js';
import { formatInt } from '../units/format.js';

/** The largest cluster `--gpus` (and `--max-gpus`) accepts (the schema's own bound on `cluster.gpus`). */
export const MAX_GPUS = 10_000_000;

/** The most Monte Carlo trials per plan a study (`search`, `size`, `scaling --plan`) accepts. */
const MAX_STUDY_TRIALS = 100_000;

/** `<scenario>` plus `--set` (repeatable) and `--gpus`. */
export function scenarioOptions<T>(y: Argv<T>, setExample = 'plan.tp=4') {
  return y
    .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (YAML or JSON)' })
    .option('set', { type: 'string', array: true, describe: `override a field: path=value (repeatable), e.g. ${setExample}` })
    .option('gpus', { type: 'string', describe: 'resize the cluster; dp is re-derived' });
}

/**
 * The options of a planning study (`search`, `size`): `<scenario>`, `--json`, `--set` (repeatable)
 * and `--trials` (Monte Carlo trials per re-ranked plan or cluster size), declared once.
 */
export function studyOptions<T>(y: Argv<T>, scenarioDescribe: string, trials: { default: number; describe: string }) {
  return y
    .positional('scenario', { type: 'string', demandOption: true, describe: scenarioDescribe })
    .option('trials', { type: 'number', default: trials.default, describe: trials.describe })
    .option('json', { type: 'boolean', describe: 'print JSON' })
    .option('set', { type: 'string', array: true, describe: 'override a scenario field: path=value (repeatable)' });
}

/** A study's `--trials` (yargs reads it as a number): a whole number from 1 to 100,000. */
export function studyTrials(trials: number): number {
  if (!Number.isInteger(trials) || trials < 1 || trials > MAX_STUDY_TRIALS) throw new UserError(`must be a whole number from 1 to ${formatInt(MAX_STUDY_TRIALS)}, got ${trials}`, undefined, '--trials');
  return trials;
}

/** `--json`. */
export function jsonOption<T>(y: Argv<T>, describe = 'print JSON instead of the report') {
  return y.option('json', { type: 'boolean', describe });
}

/** `--engine des|analytic`. */
export function engineOption<T>(y: Argv<T>, describe = 'step engine (default: the scenario’s, des)') {
  return y.option('engine', { choices: ['des', 'analytic'] as const, describe });
}

/** Reads repeatable `--set` options into a list of strings. */
export function setsOption(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Reads a flag's value as a whole number in [min, max], written in decimal digits only. */
export function wholeNumber(v: unknown, flag: string, min: number, max: number): number {
  const text = String(Array.isArray(v) ? v[v.length - 1] : v).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    throw new UserError(`must be a whole number from ${formatInt(min)} to ${formatInt(max)}, got "${shown}"`, undefined, flag);
  }
  return n;
}

/** `--gpus N`: a whole number of GPUs, or undefined when not given. */
export function gpusOption(v: unknown): number | undefined {
  return v === undefined ? undefined : wholeNumber(v, '--gpus', 1, MAX_GPUS);
}

/**
 * `--seed S`: a non-negative whole number in decimal digits. Leading zeros do not make a
 * different seed: "07" and "7" are the same seed, 7, and the report prints it as 7.
 */
export function seedOption(v: unknown): number {
  return wholeNumber(v, '--seed', 0, Number.MAX_SAFE_INTEGER);
}

/** The largest global batch `--global-batch` accepts, in sequences. */
export const GLOBAL_BATCH_DESCRIBE = 'global batch in sequences: N, a list 1024,2048, or a range A..B (A, B and the powers of two between)';

const MAX_GLOBAL_BATCH = 1 << 24;

/**
 * Reads `--global-batch` in sequences (the unit of the scenario's plan.globalBatch when it is a
 * bare number): one batch (N), a list (1024,1536,2048), or a range A..B, which searches A, B and
 * every power of two between them.
 */
export function parseGlobalBatches(value: string): number[] {
  const text = String(value).trim();
  const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(text);
  const list = range ? null : /^\d+(\s*,\s*\d+)*$/.test(text) ? text.split(',').map((x) => Number(x.trim())) : null;
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  if (!range && !list) throw new UserError(`expects a global batch in sequences: N, a list like 1024,2048 or a range like 1024..4096, got "${shown}"`, undefined, '--global-batch');
  const values = range ? [Number(range[1]), Number(range[2])] : list!;
  if (values.some((b) => !(b >= 1 && b <= MAX_GLOBAL_BATCH))) throw new UserError(`each batch must be from 1 to ${formatInt(MAX_GLOBAL_BATCH)} sequences, got "${shown}"`, undefined, '--global-batch');
  if (range && values[0] > values[1]) throw new UserError(`expects A..B with A ≤ B, got "${shown}"`, undefined, '--global-batch');
  return range ? batchGrid(values[0], values[1]) : [...new Set(values)].sort((a, b) => a - b);
}
