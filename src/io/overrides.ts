/**
 * `--set a.b.c=value` overrides, applied to the raw parsed scenario before validation. Values
 * are read as YAML (scalars or small flow collections) under the same limits as files; paths may
 * not pass through `__proto__`, `constructor` or `prototype`, and every mapping on the path is
 * copied into a null-prototype object, so no override can reach or change a prototype.
 */
import { dirname, resolve } from 'node:path';
import { UserError, escapeControl } from '../errors.js';
import { parseDataText } from './files.js';
import { readProfile, type ProfileKind } from './profiles.js';
import { DEFAULT_SOFTWARE } from '../schema/software.js';
import { formatInt } from '../units/format.js';

/** Scenario fields that may name a profile instead of giving it inline. */
export const profileRefFields: Record<string, ProfileKind> = { model: 'model', 'cluster.gpu': 'gpu', 'cluster.node': 'node', 'cluster.fabric': 'fabric', 'cluster.failures': 'failures', software: 'software' };

/** Keys that would reach an object's prototype, refused anywhere in a path. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The longest `--set` argument (path and value) accepted. */
export const MAX_SET_CHARS = 10_000;

type Mapping = Record<string, unknown>;

const isMapping = (v: unknown): v is Mapping => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A null-prototype copy of a mapping: own keys only, nothing inherited to read or write. */
function ownCopy(v: Mapping): Mapping {
  const out = Object.create(null) as Mapping;
  for (const k of Object.keys(v)) out[k] = v[k];
  return out;
}

const own = (node: Mapping, key: string): unknown => (Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined);

/** The raw (unvalidated) data of a named profile, for overriding its fields. */
function rawProfile(kind: ProfileKind, name: string, nearDir: string | undefined, from: { file?: string; field: string }): Mapping {
  const { path, raw } = readProfile(kind, name, nearDir, from);
  if (!isMapping(raw)) throw new UserError(`${kind} profile "${name}" is not a mapping`, path);
  return raw;
}

/** An argument as messages quote it: at most 60 characters. */
const shown = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);

/** Splits `path=value` and checks the path: dotted keys, none empty, none reaching a prototype. */
export function parseSet(s: string): { path: string[]; valueText: string } {
  const bad = (reason: string) => new UserError(`${reason}, got "${shown(s)}"`, undefined, '--set');
  if (s.length > MAX_SET_CHARS) throw new UserError(`is ${formatInt(s.length)} characters long, over the limit of ${formatInt(MAX_SET_CHARS)}`, undefined, '--set');
  const eq = s.indexOf('=');
  if (eq <= 0) throw bad('expects path=value');
  const path = s.slice(0, eq).trim().split('.');
  if (path.some((k) => k === '')) throw bad('expects a dotted path of field names such as plan.tp');
  const forbidden = path.find((k) => FORBIDDEN_KEYS.has(k));
  if (forbidden) throw bad(`cannot set "${forbidden}": it is not a field of any file`);
  return { path, valueText: s.slice(eq + 1) };
}

/** Reads a `--set` value as YAML: `4`, `96 GiB`, `true`, `[a, b]`; malformed YAML is a UserError. */
export function parseSetValue(text: string, s: string): unknown {
  try {
    return parseDataText(text, '--set');
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`cannot read the value of "${shown(s)}": ${e.message}`, undefined, '--set');
    throw e;
  }
}

/**
 * Applies `--set a.b.c=value` overrides to the raw parsed file (values read as YAML).
 * A path through a profile named by reference (`model: llama3-70b`, `cluster.gpu: h100-sxm-80gb`)
 * copies that profile inline first, so `--set model.mtpLayers=1` or
 * `--set cluster.gpu.hbm.capacity="96 GiB"` change this run only. A node or fabric the scenario
 * leaves to the GPU profile's defaults is copied the same way.
 */
export function applyOverrides(raw: unknown, sets: string[], file?: string): unknown {
  if (sets.length === 0) return raw;
  const root = isMapping(raw) ? ownCopy(raw) : (Object.create(null) as Mapping);
  const nearDir = file ? dirname(resolve(file)) : undefined;
  for (const s of sets) {
    const { path, valueText } = parseSet(s);
    const value = parseSetValue(valueText, s);
    // The container the next key indexes: a mapping, or a list (a programme's `stages`), whose key
    // is an entry's index or its `name`.
    let node: Mapping | unknown[] = root;
    const keyIn = (container: Mapping | unknown[], key: string, at: string): string | number => {
      if (!Array.isArray(container)) return key;
      const index = /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : container.findIndex((e) => isMapping(e) && own(e, 'name') === key);
      if (index < 0 || index >= container.length) {
        const range = container.length > 0 ? `an index 0–${container.length - 1} or an entry's name` : 'the list is empty';
        throw new UserError(`cannot set "${escapeControl(shown(s))}": ${at} has no entry "${escapeControl(key)}" (${range})`, undefined, '--set');
      }
      return index;
    };
    for (let i = 0; i < path.length - 1; i++) {
      const at = path.slice(0, i + 1).join('.');
      const key = keyIn(node, path[i], path.slice(0, i).join('.'));
      let next: unknown = Array.isArray(node) ? node[key as number] : own(node, key as string);
      const kind = Array.isArray(node) ? undefined : profileRefFields[at];
      if (kind && next === undefined && (kind === 'node' || kind === 'fabric')) {
        // Defaults come from the GPU profile (defaultNode / defaultFabric).
        const gpu = own(node as Mapping, 'gpu');
        const gpuRaw = typeof gpu === 'string' ? rawProfile('gpu', gpu, nearDir, { file, field: 'cluster.gpu' }) : isMapping(gpu) ? gpu : undefined;
        const name = gpuRaw ? own(gpuRaw, kind === 'node' ? 'defaultNode' : 'defaultFabric') : undefined;
        if (typeof name === 'string') next = name;
      }
      // A scenario that names no software runs on the default profile: overriding one of its fields copies it.
      if (kind === 'software' && next === undefined) next = DEFAULT_SOFTWARE;
      if (kind && typeof next === 'string') next = rawProfile(kind, next, nearDir, { file, field: at });
      if (next === undefined || next === null) next = Object.create(null) as Mapping;
      else if (!isMapping(next) && !Array.isArray(next)) throw new UserError(`cannot set "${escapeControl(shown(s))}": ${at} is not a mapping`, undefined, '--set');
      // Copy each mapping or list on the path: profiles and aliased (shared) values stay untouched.
      const copy: Mapping | unknown[] = Array.isArray(next) ? next.slice() : ownCopy(next as Mapping);
      if (Array.isArray(node)) node[key as number] = copy;
      else node[key as string] = copy;
      node = copy;
    }
    const last = keyIn(node, path[path.length - 1], path.slice(0, -1).join('.'));
    if (Array.isArray(node)) node[last as number] = value;
    else node[last as string] = value;
  }
  return root;
}
