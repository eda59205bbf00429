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

/** The repository root (holds hardware-profiles/, models/, scenarios/), from src/io or dist/io. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
    const line = err.linePos?.[0];
    throw new UserError(`malformed YAML${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${err.message.split('\n')[0]}`, file);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Formats the first zod issue as a UserError with the dotted field path. */
export function zodError(error: z.ZodError, file: string, prefix: (string | number)[] = []): UserError {
  const issue = error.issues[0];
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  } else if (issue.code === 'invalid_union') {
    // Unions of "name or inline object": report the branch the user evidently meant.
    const branches = (issue as unknown as { errors: z.core.$ZodIssue[][] }).errors;
    const deepest = branches.map((b) => b[0]).filter(Boolean).sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest) {
      path.push(...deepest.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
      message = deepest.code === 'unrecognized_keys'
        ? `unknown key ${(deepest as { keys: string[] }).keys.map((k) => `"${k}"`).join(', ')}`
        : deepest.message;
    }
  }
  const extra = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return new UserError(message + extra, file, formatPath(path));
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
  const p = profilePath(kind, name, nearDir);
  if (!p) {
    throw new UserError(`no ${kind} profile named "${name}"`, referencedFrom?.file, referencedFrom?.field, `looked in ${join(...profileDirs[kind])}/; run 'clusterplan profiles' to list them`);
  }
  const raw = readDataFile(p);
  const parsed = profileSchemas[kind].safeParse(raw);
  if (!parsed.success) throw zodError(parsed.error, p);
  return parsed.data as z.output<(typeof profileSchemas)[K]>;
}

/** Applies `--set a.b.c=value` overrides to the raw parsed file (values read as YAML scalars). */
export function applyOverrides(raw: unknown, sets: string[]): unknown {
  const root = (raw ?? {}) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set expects path=value, got "${s}"`, undefined, '--set');
    const path = s.slice(0, eq).split('.');
    const value = parseYaml(s.slice(eq + 1));
    let node: Record<string, unknown> = root;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
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
  raw = applyOverrides(raw, options.sets ?? []);
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
  const parsed = ScenarioSchema.safeParse(raw);
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
