/**
 * Property test for bad input (issue 2, item 8): mutated scenarios either fail with one clean
 * UserError (file, field path, readable reason) or evaluate to a result holding only finite numbers.
 *
 * Seeds are the bundled tiny and llama3-405b scenarios, each as written (profiles by name) and with
 * every profile inlined, so mutations also reach GPU, node, fabric, model and failure fields.
 * Mutations: delete a key or list entry, replace a value (wrong type, null, list, object, huge,
 * negative, zero, tiny, NaN-ish strings, random unit strings), scale a number to an extreme, add
 * an unknown key. The seed is fixed so CI is deterministic.
 *
 * `npm test` runs a small budget; CLUSTERPLAN_FUZZ=1 (`npm run fuzz`) runs the full sweeps.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseScenario } from '../../src/io/load.js';
import { evaluate } from '../../src/run/evaluate.js';
import { UserError } from '../../src/errors.js';
import { seeds, allPaths, getAt, mutation, mutate, type Json } from './mutations.js';

const heavy = !!process.env.CLUSTERPLAN_FUZZ;
/** The full sweeps take minutes on a shared machine. */
const HEAVY_TIMEOUT_MS = 900_000;

/** Paths of numbers in a value that are not finite (NaN, ±Infinity). */
function nonFinite(v: unknown, path = '', out: string[] = []): string[] {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) out.push(`${path || '(root)'} = ${v}`);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => nonFinite(x, `${path}[${i}]`, out));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) nonFinite(x, path ? `${path}.${k}` : k, out);
  }
  return out;
}

type Outcome = { kind: 'error'; error: UserError } | { kind: 'ok'; nonFinite: string[] };

/** Parses and evaluates; any exception other than a UserError propagates and fails the property. */
function run(value: Json): Outcome {
  let scenario;
  try {
    scenario = parseScenario(value, 'fuzz.yaml');
  } catch (e) {
    if (e instanceof UserError) return { kind: 'error', error: e };
    throw e;
  }
  try {
    return { kind: 'ok', nonFinite: nonFinite(evaluate(scenario)) };
  } catch (e) {
    if (e instanceof UserError) return { kind: 'error', error: e };
    throw e;
  }
}

/**
 * One clean line: a file, a field path, a non-empty reason, and no leaked JavaScript values
 * ("undefined", "NaN", "[object Object]") outside the user's own text, which messages quote.
 */
function checkUserError(e: UserError): void {
  const text = e.format();
  expect(e.message.trim(), text).not.toBe('');
  // Several layout problems are one line each (UserErrors), each its own clean line.
  for (const line of text.split('\nerror: ')) {
    expect(line.replace(/"(?:[^"\\]|\\.)*"/g, '""'), line).not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]|\bInfinity\b/);
    expect(line, line).not.toContain('\n');
  }
  const line = text;
  expect(e.file, line).toBeTruthy();
  expect(e.fieldPath, line).toBeTruthy();
}

describe('fuzzed scenarios give a clean error or finite numbers', () => {
  it(`holds for ${heavy ? '1,000' : '150'} mutated scenarios (seed 42)`, () => {
    const counts = { error: 0, ok: 0 };
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const value = structuredClone(seeds[which].value);
        for (const m of mutations) mutate(value, m);
        const outcome = run(value);
        if (outcome.kind === 'error') {
          counts.error++;
          checkUserError(outcome.error);
        } else {
          counts.ok++;
          expect(outcome.nonFinite, `${seeds[which].name}: non-finite numbers in the evaluation`).toEqual([]);
        }
      }),
      { numRuns: heavy ? 1000 : 150, seed: 42 },
    );
    if (heavy) process.stdout.write(`fuzz.property: ${counts.error + counts.ok} mutated scenarios tried (${counts.error} errors, ${counts.ok} evaluated)\n`);
    // Both outcomes must be exercised, or the mutations are too weak (or too strong) to test anything.
    expect(counts.error).toBeGreaterThan(heavy ? 100 : 15);
    expect(counts.ok).toBeGreaterThan(heavy ? 50 : 5);
  }, heavy ? HEAVY_TIMEOUT_MS : undefined);

  it('holds for every field of every seed set to each extreme value in turn', () => {
    const all: Json[] = [0, -1, 1e-300, 5e-324, 1e30, 1e300, 2 ** 53 + 2, Number.NaN, 'x', null, [], '1e-300', '0%', '80 GB/s', '1e400 GiB'];
    const extremes = heavy ? all : [0, -1, 5e-324, 1e300, 'x', '1e400 GiB'];
    let runs = 0;
    // The small budget sweeps the inlined tiny seed (every kind of field) with every extreme.
    for (const s of heavy ? seeds : seeds.filter((x) => x.name === 'tiny-inlined')) {
      for (const path of allPaths(s.value)) {
        for (const v of extremes) {
          const value = structuredClone(s.value);
          (getAt(value, path.slice(0, -1)) as Record<string | number, Json>)[path[path.length - 1]] = structuredClone(v);
          const where = `${s.name} ${path.join('.')} = ${JSON.stringify(v)}`;
          const outcome = run(value);
          if (outcome.kind === 'error') checkUserError(outcome.error);
          else expect(outcome.nonFinite, where).toEqual([]);
          runs++;
        }
      }
    }
    if (heavy) process.stdout.write(`fuzz.property: ${runs} extreme values tried\n`);
    expect(runs).toBeGreaterThan(heavy ? 1000 : 300);
  }, heavy ? HEAVY_TIMEOUT_MS : undefined);

  it('the unmutated seeds evaluate to finite numbers', () => {
    for (const s of seeds) {
      const outcome = run(structuredClone(s.value));
      expect(outcome.kind, s.name).toBe('ok');
      if (outcome.kind === 'ok') expect(outcome.nonFinite, s.name).toEqual([]);
    }
  });
});
