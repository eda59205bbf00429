/**
 * Mutated scenarios for the fuzz tests (issue 2 item 8, issue 11): value mutations of the parsed
 * seeds (delete, replace with a weird value, scale, add an unknown key) and structural mutations
 * of the text (deep nesting, aliases, duplicate keys in YAML and JSON, long lists and mappings,
 * prototype keys, hostile `--set` arguments, control characters). Deterministic for a seed.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { packageRoot } from '../../src/io/files.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Path = (string | number)[];

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
export const seeds: { name: string; value: Json }[] = [
  { name: 'tiny', value: tiny },
  { name: 'tiny-inlined', value: inlined(tiny) },
  { name: 'llama3-405b', value: llama },
  { name: 'llama3-405b-inlined', value: inlined(llama) },
];

/** Every path in a value (the root excluded), containers and leaves alike, in a stable order. */
export function allPaths(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) {
    v.forEach((x, i) => out.push([...prefix, i], ...allPaths(x, [...prefix, i])));
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) out.push([...prefix, k], ...allPaths(v[k], [...prefix, k]));
  }
  return out;
}

export function getAt(root: Json, path: Path): Json {
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
export const weirdValue: fc.Arbitrary<Json> = fc.oneof(
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

export type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'scale'; at: number; factor: number }
  | { kind: 'unknownKey'; at: number; key: string; value: Json };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: weirdValue }),
  fc.record({ kind: fc.constant('scale' as const), at: fc.nat(), factor: fc.constantFrom(0, -1, 1e30, 1e-30, 1e-300, 2, 0.5, 1.5, 1e3, 1e6) }),
  fc.record({ kind: fc.constant('unknownKey' as const), at: fc.nat(), key: fc.constantFrom('foo', 'tpp', 'gpu', 'Layers', '__proto__x', 'constructor', '__proto__', 'prototype'), value: weirdValue }),
);

/** Applies one mutation at the path picked by `at` (modulo the number of paths). */
export function mutate(root: Json, m: Mutation): void {
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
      // defineProperty: `obj.__proto__ = v` would set the prototype instead of adding the key.
      if (obj) Object.defineProperty(obj, m.key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
      break;
    }
  }
}

/** A file to write and evaluate, with the `--set` arguments to pass. */
export interface Case {
  kind: string;
  ext: 'yaml' | 'json';
  text: string;
  sets: string[];
}

/** The structural mutations: each takes a seed scenario and a size knob, returns a hostile case. */
export const structuralKinds = [
  'deepBlock', 'deepFlow', 'deepJson', 'aliasReuse', 'aliasBomb', 'dupKeyYaml', 'dupKeyJson', 'dupKeyNested',
  'longList', 'longJsonList', 'manyKeys', 'protoKeyFile', 'protoSet', 'badSetValue', 'controlChars', 'hugeString', 'oversize',
] as const;
export type StructuralKind = (typeof structuralKinds)[number];

const yaml = (v: Json) => stringifyYaml(v, { aliasDuplicateObjects: false });

/**
 * One structural mutation of `seed` at size `n` (a depth, a count or a length: callers pick it
 * from small to well past each limit).
 */
export function structural(kind: StructuralKind, seed: Json, n: number): Case {
  const base = yaml(seed);
  const json = JSON.stringify(seed);
  const c = (text: string, ext: 'yaml' | 'json' = 'yaml', sets: string[] = []): Case => ({ kind, ext, text, sets });
  switch (kind) {
    case 'deepBlock': {
      // n levels of block mappings, then more keys after the deep part.
      const depth = Math.min(n, 3000);
      let s = '';
      for (let i = 0; i < depth; i++) s += `${' '.repeat(i)}k${i}:\n`;
      return c(`${base}deep:\n${s.replace(/^/gm, ' ')}${' '.repeat(depth + 1)}leaf: 1\nafter: 2\n`);
    }
    case 'deepFlow':
      return c(`${base}deep: ${'['.repeat(n)}1${']'.repeat(n)}\n`);
    case 'deepJson':
      return c(`${json.slice(0, -1)},"deep":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`, 'json');
    case 'aliasReuse': {
      // A legit shape: one anchored plan reused n times under an unknown key.
      return c(`${base}stages:\n  - &p { tp: 1, pp: 1 }\n${'  - *p\n'.repeat(n)}`);
    }
    case 'aliasBomb': {
      let s = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
      for (let i = 1; i <= n; i++) s += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
      return c(`${base}${s}`);
    }
    case 'dupKeyYaml':
      return c(`${base}model: llama3-70b\n`);
    case 'dupKeyJson':
      return c(`${json.slice(0, -1)},"model":"llama3-70b"}`, 'json');
    case 'dupKeyNested': {
      const keys = Array.from({ length: n }, (_, i) => `  k${i}: ${i}\n`).join('');
      return c(`${base}extra:\n${keys}  k${Math.floor(n / 2)}: dup\n`);
    }
    case 'longList':
      return c(`${base}list:\n${'  - 1\n'.repeat(n)}`);
    case 'longJsonList':
      return c(`${json.slice(0, -1)},"list":[${Array(n).fill('1').join(',')}]}`, 'json');
    case 'manyKeys':
      return c(`${base}extra:\n${Array.from({ length: n }, (_, i) => `  k${i}: ${i}\n`).join('')}`);
    case 'protoKeyFile':
      return c(`${base}${['__proto__', 'constructor', 'prototype'][n % 3]}:\n  tp: 4\n  hasOwnProperty: 1\n`);
    case 'protoSet': {
      const paths = ['__proto__.tp', '__proto__.hasOwnProperty', 'constructor.prototype.x', 'plan.__proto__.tp', 'plan.constructor', 'cluster.gpu.prototype', 'model.__proto__.polluted', 'toString.x', 'hasOwnProperty'];
      return c(base, 'yaml', [`${paths[n % paths.length]}=${n % 2 ? '4' : '{a: 1}'}`]);
    }
    case 'badSetValue': {
      const values = ['[1', '*x', '{a: ', '&a [*a]', '!!js/function "x"', '"unterminated', "'", 'a: b: c', '- - -', '[1, [2', `${'['.repeat(n)}1`, '@x', '`x`', '%YAML 1.2', '? a', 'x'.repeat(n * 10)];
      return c(base, 'yaml', [`plan.tp=${values[n % values.length]}`]);
    }
    case 'controlChars':
      return c(yaml({ ...(seed as Record<string, Json>), ['na\u001b[31mme' + 'x'.repeat(n % 50)]: '\u0007\u001b]0;pwned\u0007' }));
    case 'hugeString':
      return c(`${base}name${n % 2}: "${'A'.repeat(n)}"\n`);
    case 'oversize':
      return c(`${base}# ${'x'.repeat(n)}\n`);
  }
}
