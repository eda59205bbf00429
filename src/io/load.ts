/**
 * Reading scenario, profile and model files: the only place the core's inputs touch the disk.
 * Files are YAML or JSON; names resolve to hardware-profiles/<kind>/<name>.yaml and models/<name>.yaml.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseDocument } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { ScenarioSchema } from '../schema/scenario.js';
import { GpuSchema, NodeSchema, FabricSchema } from '../schema/system.js';
import { ModelSchema } from '../schema/model.js';
import { FailureProfileSchema } from '../schema/failures.js';
import { resolveScenario, type Scenario } from '../plan/resolve.js';
import { loadUnitCache } from './unit-cache.js';

/** The repository root (holds hardware-profiles/, models/, scenarios/): the nearest folder above this module with clusterplan's package.json (src/io, dist/io or the dist/ bundle). */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  for (let dir = start, i = 0; i < 6; i++, dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"clusterplan"/.test(readFileSync(pkg, 'utf8'))) return dir;
  }
  return resolve(start, '..', '..');
}

loadUnitCache(packageRoot, fileURLToPath(import.meta.url));

/** Reads a YAML or JSON file into a plain value, with a UserError naming the file on failure. */
export function readDataFile(file: string): unknown {
  if (!existsSync(file)) throw new UserError('file not found', file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read file: ${(e as Error).message}`, file);
  }
  return parseDataText(text, file);
}

/** Parses YAML or JSON text (JSON is YAML); errors name the line. */
export function parseDataText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new UserError(`malformed JSON: ${(e as Error).message}`, file);
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    // linePos is only filled in with prettyErrors (which makes the message multi-line): count from the offset.
    const before = text.slice(0, err.pos?.[0] ?? 0).split('\n');
    const at = err.pos ? ` at line ${before.length}, column ${before[before.length - 1].length + 1}` : '';
    throw new UserError(`malformed YAML${at}: ${err.message.split('\n')[0]}`, file);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Formats the first zod issue as a UserError with the dotted field path and a plain reason. */
export function zodError(error: z.ZodError, file: string, prefix: (string | number)[] = []): UserError {
  const { path, message } = describeIssue(error.issues[0], prefix);
  // Further problems elsewhere in the file are counted; a second complaint about the same field is not.
  const first = JSON.stringify(error.issues[0].path.map(pathKey));
  const more = error.issues.filter((i) => JSON.stringify(i.path.map(pathKey)) !== first).length;
  const extra = more > 0 ? ` (and ${more} more problem${more > 1 ? 's' : ''})` : '';
  return new UserError(message + extra, file, formatPath(path));
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
function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? '.nan (not a number)' : v === Infinity ? '.inf' : v === -Infinity ? '-.inf' : formatNumber(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

function formatNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return v.toLocaleString('en-US');
  return Math.abs(v) >= 1e16 || (v !== 0 && Math.abs(v) < 1e-6) ? v.toExponential() : String(v);
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const profileDirs = {
  gpu: ['hardware-profiles', 'gpus'],
  node: ['hardware-profiles', 'nodes'],
  fabric: ['hardware-profiles', 'fabrics'],
  failures: ['hardware-profiles', 'failures'],
  model: ['models'],
} as const;
type ProfileKind = keyof typeof profileDirs;
const profileSchemas = { gpu: GpuSchema, node: NodeSchema, fabric: FabricSchema, failures: FailureProfileSchema, model: ModelSchema };

/** Finds a named profile file of a kind, next to the scenario first, then in the package. */
export function profilePath(kind: ProfileKind, name: string, nearDir?: string): string | undefined {
  const roots = [nearDir ? resolve(nearDir, '..') : undefined, nearDir, packageRoot].filter((r): r is string => !!r);
  for (const root of roots) {
    for (const ext of ['.yaml', '.yml', '.json']) {
      const p = join(root, ...profileDirs[kind], name + ext);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/** Loads and validates one named profile. */
export function loadProfile<K extends ProfileKind>(kind: K, name: string, nearDir?: string, referencedFrom?: { file: string; field: string }): z.output<(typeof profileSchemas)[K]> {
  const { path, raw } = readProfile(kind, name, nearDir, referencedFrom);
  const parsed = profileSchemas[kind].safeParse(raw, { reportInput: true });
  if (!parsed.success) throw zodError(parsed.error, path);
  return parsed.data as z.output<(typeof profileSchemas)[K]>;
}

/** Finds and reads a named profile, unvalidated. */
function readProfile(kind: ProfileKind, name: string, nearDir?: string, referencedFrom?: { file?: string; field: string }): { path: string; raw: unknown } {
  const path = profilePath(kind, name, nearDir);
  if (!path) {
    throw new UserError(`no ${kind} profile named "${name}"`, referencedFrom?.file, referencedFrom?.field, `looked in ${join(...profileDirs[kind])}/; run 'clusterplan profiles' to list them`);
  }
  return { path, raw: readDataFile(path) };
}

/** Scenario fields that may name a profile instead of giving it inline. */
const profileRefFields: Record<string, ProfileKind> = { model: 'model', 'cluster.gpu': 'gpu', 'cluster.node': 'node', 'cluster.fabric': 'fabric', 'cluster.failures': 'failures' };

/** The raw (unvalidated) data of a named profile, for overriding its fields. */
function rawProfile(kind: ProfileKind, name: string, nearDir: string | undefined, from: { file?: string; field: string }): Record<string, unknown> {
  const { path, raw } = readProfile(kind, name, nearDir, from);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${kind} profile "${name}" is not a mapping`, path);
  return raw as Record<string, unknown>;
}

/**
 * Applies `--set a.b.c=value` overrides to the raw parsed file (values read as YAML scalars).
 * A path through a profile named by reference (`model: llama3-70b`, `cluster.gpu: h100-sxm-80gb`)
 * copies that profile inline first, so `--set model.mtpLayers=1` or
 * `--set cluster.gpu.hbm.capacity="96 GiB"` change this run only. A node or fabric the scenario
 * leaves to the GPU profile's defaults is copied the same way.
 */
export function applyOverrides(raw: unknown, sets: string[], file?: string): unknown {
  const root = (raw ?? {}) as Record<string, unknown>;
  const nearDir = file ? dirname(resolve(file)) : undefined;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set expects path=value, got "${s}"`, undefined, '--set');
    const path = s.slice(0, eq).split('.');
    const value = parseYaml(s.slice(eq + 1));
    let node: Record<string, unknown> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i];
      const at = path.slice(0, i + 1).join('.');
      let next = node[key];
      const kind = profileRefFields[at];
      if (kind && next === undefined && (kind === 'node' || kind === 'fabric')) {
        // Defaults come from the GPU profile (defaultNode / defaultFabric).
        const gpu = node.gpu;
        const gpuRaw = typeof gpu === 'string' ? rawProfile('gpu', gpu, nearDir, { file, field: 'cluster.gpu' }) : (gpu as Record<string, unknown> | undefined);
        const name = gpuRaw?.[kind === 'node' ? 'defaultNode' : 'defaultFabric'];
        if (typeof name === 'string') next = name;
      }
      if (kind && typeof next === 'string') {
        next = structuredClone(rawProfile(kind, next, nearDir, { file, field: at }));
        node[key] = next;
      }
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) throw new UserError(`cannot set "${s}": ${key} is not an object`, undefined, '--set');
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return root;
}

export interface LoadOptions {
  sets?: string[];
  gpus?: number;
}

/** Reads, validates and resolves a scenario file into the core's fully resolved Scenario. */
export function loadScenario(file: string, options: LoadOptions = {}): Scenario {
  let raw = readDataFile(file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError('a scenario must be a mapping with model, cluster, plan and training', file);
  raw = applyOverrides(raw, options.sets ?? [], file);
  const r = raw as { cluster?: Record<string, unknown>; plan?: Record<string, unknown> };
  if (options.gpus !== undefined) {
    if (!Number.isInteger(options.gpus) || options.gpus < 1 || options.gpus > 1e7) throw new UserError(`--gpus must be a whole number from 1 to 10,000,000, got ${options.gpus}`, undefined, '--gpus');
    r.cluster = { ...(r.cluster ?? {}), gpus: options.gpus };
    if (r.plan) delete r.plan.dp; // re-derived from the new GPU count
  }
  return parseScenario(raw, file);
}

/** Validates an already-parsed scenario value and resolves its named references. */
export function parseScenario(raw: unknown, file: string): Scenario {
  const parsed = ScenarioSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw zodError(parsed.error, file);
  const s = parsed.data;
  const dir = dirname(resolve(file));
  const ref = (field: string) => ({ file, field });
  const model = typeof s.model === 'string' ? loadProfile('model', s.model, dir, ref('model')) : s.model;
  const gpu = typeof s.cluster.gpu === 'string' ? loadProfile('gpu', s.cluster.gpu, dir, ref('cluster.gpu')) : s.cluster.gpu;
  const nodeRef = s.cluster.node ?? gpu.defaultNode;
  if (nodeRef === undefined) throw new UserError('no node given and the GPU profile names no defaultNode', file, 'cluster.node');
  const node = typeof nodeRef === 'string' ? loadProfile('node', nodeRef, dir, ref('cluster.node')) : nodeRef;
  const fabricRef = s.cluster.fabric ?? gpu.defaultFabric;
  if (fabricRef === undefined) throw new UserError('no fabric given and the GPU profile names no defaultFabric', file, 'cluster.fabric');
  const fabric = typeof fabricRef === 'string' ? loadProfile('fabric', fabricRef, dir, ref('cluster.fabric')) : fabricRef;
  const failures = s.cluster.failures === undefined ? undefined : typeof s.cluster.failures === 'string' ? loadProfile('failures', s.cluster.failures, dir, ref('cluster.failures')) : s.cluster.failures;
  return resolveScenario({ input: s, model, gpu, node, fabric, failures }, file);
}
