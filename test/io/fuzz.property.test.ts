/**
 * Property test for bad input (issue 2, item 8): mutated scenarios either fail with one clean
 * UserError (file, field path, readable reason) or evaluate to a result holding only finite numbers.
 *
 * Seeds are the bundled tiny and llama3-405b scenarios, each as written (profiles by name) and with
 * every profile inlined, so mutations also reach GPU, node, fabric, model and failure fields.
 * Mutations: delete a key or list entry, replace a value (wrong type, null, list, object, huge,
 * negative, zero, tiny, NaN-ish strings, random unit strings), scale a number to an extreme, add
 * an unknown key. The seed is fixed so CI is deterministic.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseScenario, packageRoot } from '../../src/io/load.js';
import { evaluate } from '../../src/run/evaluate.js';
import { UserError } from '../../src/errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

const readYaml = (...p: string[]): Json => parseYaml(readFileSync(join(packageRoot, ...p), 'utf8')) as Json;

/** The scenario with its named model and profiles replaced by their file contents. */
function inlined(scenario: Json): Json {
  const s = structuredClone(scenario) as { [k: string]: { [k: string]: Json } | Json };
  const cluster = s.cluster as { [k: string]: Json };
  const gpu = readYaml('hardware-profiles', 'gpus', `${cluster.gpu}.yaml`) as { [k: string]: Json };
  s.model = readYaml('models', `${s.model}.yaml`);
  cluster.node = readYaml('hardware-profiles', 'nodes', `${cluster.node ?? gpu.defaultNode}.yaml`);
  cluster.fabric = readYaml('hardware-profiles', 'fabrics', `${cluster.fabric ?? gpu.defaultFabric}.yaml`);
  if (typeof cluster.failures === 'string') cluster.failures = readYaml('hardware-profiles', 'failures', `${cluster.failures}.yaml`);
  cluster.gpu = gpu;
  return s as Json;
}

const tiny = readYaml('scenarios', 'tiny.yaml');
const llama = readYaml('scenarios', 'llama3-405b.yaml');
const seeds: { name: string; value: Json }[] = [
  { name: 'tiny', value: tiny },
  { name: 'tiny-inlined', value: inlined(tiny) },
  { name: 'llama3-405b', value: llama },
  { name: 'llama3-405b-inlined', value: inlined(llama) },
];

/** Every path in a value (the root excluded), containers and leaves alike, in a stable order. */
function allPaths(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) {
    v.forEach((x, i) => out.push([...prefix, i], ...allPaths(x, [...prefix, i])));
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) out.push([...prefix, k], ...allPaths(v[k], [...prefix, k]));
  }
  return out;
}

function getAt(root: Json, path: Path): Json {
  let node: Json = root;
  for (const p of path) node = (node as Record<string | number, Json>)[p];
  return node;
}

const unitWords = ['B', 'GB', 'GiB', 'TB', 'GB/s', 'Gb/s', 'TB/s', 'TFLOP/s', 'PFLOP/s', 'FLOP', 'W', 'kW', 's', 'ms', 'min', 'h', 'days', 'parsecs', 'm', 'kg', 'USD', 'USD/h', '%', 'T', 'M', 'tokens', 'GPUs', 'furlongs/fortnight', 'K'];
const numberWords = ['0', '-1', '1', '80', '3', '0.5', '1e30', '1e400', '1e-300', '-1e30', 'NaN', 'Infinity', '.5', '2.'];
const unitString = fc
  .tuple(fc.constantFrom(...numberWords), fc.constantFrom('', ' '), fc.constantFrom(...unitWords))
  .map(([n, sp, u]) => `${n}${sp}${u}`);

/** Values a field may be replaced with: wrong types, extremes and unit strings. */
const weirdValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null, true, false, [], {}, [1, 2], { a: 1 }, '', ' ', 'x', 'NaN', '.nan', 'Infinity', '-Infinity', 'undefined', 'null',
    '80 GB/s', '3 parsecs', '1e400 GiB', '-5 GiB', '0 s', '1e-300 s', '100%', '150%', '-20%', '$5', '15.6T', '1e30', 'auto',
    0, -0, -1, 1, 2, 3, 7, 0.5, 1e-300, 5e-324, 1e30, -1e30, 1e300, 2 ** 53 + 2, Number.MAX_VALUE, 1e7, 1e7 + 1,
    Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
  ),
  unitString,
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 12 }),
);

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'scale'; at: number; factor: number }
  | { kind: 'unknownKey'; at: number; key: string; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: weirdValue }),
  fc.record({ kind: fc.constant('scale' as const), at: fc.nat(), factor: fc.constantFrom(0, -1, 1e30, 1e-30, 1e-300, 2, 0.5, 1.5, 1e3, 1e6) }),
  fc.record({ kind: fc.constant('unknownKey' as const), at: fc.nat(), key: fc.constantFrom('foo', 'tpp', 'gpu', 'Layers', '__proto__x', 'constructor'), value: weirdValue }),
);

/** Applies one mutation at the path picked by `at` (modulo the number of paths). */
function mutate(root: Json, m: Mutation): void {
  const paths = allPaths(root);
  if (paths.length === 0) return;
  const path = paths[m.at % paths.length];
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json> & Json[];
  const key = path[path.length - 1];
  switch (m.kind) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'replace':
      parent[key] = structuredClone(m.value);
      break;
    case 'scale': {
      const v = parent[key];
      if (typeof v === 'number') parent[key] = v * m.factor;
      else if (typeof v === 'string' && /^\s*[\d.]/.test(v)) parent[key] = v.replace(/^\s*[\d.]+(e[+-]?\d+)?/i, (n) => String(Number(n) * m.factor));
      else parent[key] = m.factor;
      break;
    }
    case 'unknownKey': {
      const target = parent[key];
      const obj = target !== null && typeof target === 'object' && !Array.isArray(target) ? target : Array.isArray(parent) ? undefined : parent;
      if (obj) (obj as Record<string, Json>)[m.key] = structuredClone(m.value);
      break;
    }
  }
}

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
  const line = e.format();
  expect(e.message.trim(), line).not.toBe('');
  expect(line.replace(/"(?:[^"\\]|\\.)*"/g, '""'), line).not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]|\bInfinity\b/);
  expect(line, line).not.toContain('\n');
  expect(e.file, line).toBeTruthy();
  expect(e.fieldPath, line).toBeTruthy();
}

describe('fuzzed scenarios give a clean error or finite numbers', () => {
  it('holds for 1,000 mutated scenarios (seed 42)', () => {
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
      { numRuns: 1000, seed: 42 },
    );
    // Both outcomes must be exercised, or the mutations are too weak (or too strong) to test anything.
    expect(counts.error).toBeGreaterThan(100);
    expect(counts.ok).toBeGreaterThan(50);
  });

  it('holds for every field of every seed set to each extreme value in turn', () => {
    const extremes: Json[] = [0, -1, 1e-300, 5e-324, 1e30, 1e300, 2 ** 53 + 2, Number.NaN, 'x', null, [], '1e-300', '0%', '80 GB/s', '1e400 GiB'];
    let runs = 0;
    for (const s of seeds) {
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
    expect(runs).toBeGreaterThan(1000);
  });

  it('the unmutated seeds evaluate to finite numbers', () => {
    for (const s of seeds) {
      const outcome = run(structuredClone(s.value));
      expect(outcome.kind, s.name).toBe('ok');
      if (outcome.kind === 'ok') expect(outcome.nonFinite, s.name).toEqual([]);
    }
  });
});
