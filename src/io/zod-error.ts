/** Turning zod's issues into one UserError line: the dotted field path and a plain reason. */
import type { z } from 'zod';
import { UserError, UserErrors } from '../errors.js';
import { formatInt } from '../units/format.js';

/** Most problems listed from one file; the rest are counted on the last line. */
export const MAX_LISTED_PROBLEMS = 20;

/**
 * Formats zod's issues as user errors with the dotted field path and a plain reason: one line per
 * field that has a problem (a second complaint about the same field is not repeated), so a file
 * with several mistakes (say three quantities written without units) is fixed in one pass.
 */
export function zodError(error: z.ZodError, file: string, prefix: (string | number)[] = []): UserError {
  const seen = new Set<string>();
  const problems: UserError[] = [];
  for (const issue of error.issues) {
    const key = JSON.stringify(issue.path.map(pathKey));
    if (seen.has(key)) continue;
    seen.add(key);
    const { path, message } = describeIssue(issue, prefix);
    problems.push(new UserError(message, file, formatPath(path)));
  }
  if (problems.length === 1) return problems[0];
  if (problems.length > MAX_LISTED_PROBLEMS) {
    const more = problems.length - MAX_LISTED_PROBLEMS + 1;
    problems.splice(MAX_LISTED_PROBLEMS - 1, problems.length, new UserError(`and ${more} more problems in this file`, file));
  }
  return new UserErrors(problems);
}

type Issue = z.core.$ZodIssue;
const pathKey = (p: PropertyKey): string | number => (typeof p === 'symbol' ? String(p) : p);

/** Rewords one zod issue as "field path + reason"; unions report the branch the user evidently meant. */
function describeIssue(issue: Issue, base: (string | number)[]): { path: (string | number)[]; message: string } {
  const path = [...base, ...issue.path.map(pathKey)];
  const input = 'input' in issue ? { value: issue.input } : undefined; // present when parsed with reportInput
  const got = input ? `, got ${describeValue(input.value)}` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const [first, ...rest] = issue.keys;
      return { path: [...path, first], message: `unknown key "${first}"${rest.length ? ` (also unknown: ${rest.map((k) => `"${k}"`).join(', ')})` : ''}` };
    }
    case 'invalid_union': {
      const branch = likeliestBranch(issue.errors);
      if (branch) return describeIssue(branch, path);
      return { path, message: `is not in an accepted form${got}` };
    }
    case 'invalid_type': {
      const missing = input ? input.value === undefined : /received undefined$/.test(issue.message);
      if (missing) return { path, message: `is required (${typeName(issue.expected)}) but missing` };
      return { path, message: `expected ${typeName(issue.expected)}${got}` };
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? (issue.inclusive === false ? 'greater than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
      const what = issue.origin === 'array' || issue.origin === 'set' ? ' entries' : issue.origin === 'string' ? ' characters' : '';
      const verb = what ? 'needs' : 'must be';
      return { path, message: `${verb} ${word} ${formatNumber(Number(bound))}${what}${got}` };
    }
    case 'invalid_value':
      return { path, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}` };
    default:
      return { path, message: issue.message };
  }
}

/**
 * The union branch the user most likely meant: the one whose issues say least that the value has
 * the wrong shape (wrong type at the branch root, unknown keys, missing keys), then the deepest.
 */
function likeliestBranch(branches: Issue[][]): Issue | undefined {
  const shapePenalty = (i: Issue): number => {
    if (i.code === 'invalid_type' && i.path.length === 0) return 100;
    if (i.code === 'unrecognized_keys') return 10;
    if (i.code === 'invalid_type' && ('input' in i ? i.input === undefined : /received undefined$/.test(i.message))) return 1;
    return 0;
  };
  const ranked = branches
    .filter((b) => b.length > 0)
    .map((b) => ({ b, score: b.reduce((s, i) => s + shapePenalty(i), 0), depth: Math.max(...b.map((i) => i.path.length)) }))
    .sort((x, y) => x.score - y.score || y.depth - x.depth);
  const best = ranked[0]?.b;
  if (!best) return undefined;
  // Within the branch, a wrong value says more than an unknown key, which says more than a missing one.
  return [...best].sort((x, y) => shapePenalty(x) - shapePenalty(y))[0];
}

function typeName(expected: string): string {
  const names: Record<string, string> = { number: 'a number', int: 'a whole number', string: 'a string', object: 'a mapping', array: 'a list', boolean: 'true or false', tuple: 'a list' };
  return names[expected] ?? expected;
}

/** A short, YAML-flavoured rendering of a value the user wrote. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? '.nan (not a number)' : v === Infinity ? '.inf' : v === -Infinity ? '-.inf' : formatNumber(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return formatInt(v);
  return Math.abs(v) >= 1e16 || (v !== 0 && Math.abs(v) < 1e-6) ? v.toExponential() : String(v);
}

export function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
