/**
 * Named profiles: models/<name>.yaml, software/<name>.yaml and hardware-profiles/<kind>/<name>.yaml, found next to the
 * scenario or in the package, validated, and recorded with the file each came from.
 */
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve, relative, extname, basename, sep } from 'node:path';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { GpuSchema, NodeSchema, FabricSchema } from '../schema/system.js';
import { ModelSchema } from '../schema/model.js';
import { FailureProfileSchema } from '../schema/failures.js';
import { SoftwareSchema } from '../schema/software.js';
import type { ProfileLookup } from '../validation/cases.js';
import { packageRoot, readDataFile } from './files.js';
import { zodError } from './zod-error.js';

export const profileDirs = {
  gpu: ['hardware-profiles', 'gpus'],
  node: ['hardware-profiles', 'nodes'],
  fabric: ['hardware-profiles', 'fabrics'],
  failures: ['hardware-profiles', 'failures'],
  model: ['models'],
  software: ['software'],
} as const;
export type ProfileKind = keyof typeof profileDirs;
const profileSchemas = { gpu: GpuSchema, node: NodeSchema, fabric: FabricSchema, failures: FailureProfileSchema, model: ModelSchema, software: SoftwareSchema };

/** Where a named profile was read from: the bundled copy in the package, or a local file. */
export interface ProfileSource {
  /** The scenario field that named it (`model`, `cluster.gpu`, ...). */
  field: string;
  kind: ProfileKind;
  name: string;
  /** Bundled: relative to the package root; local: as resolved from the working directory. */
  path: string;
  origin: 'bundled' | 'local';
}

/**
 * The folders searched for a named profile, in order: the scenario's parent folder, the
 * scenario's own folder, then the package (the bundled profiles). The first file found wins
 * (.yaml, then .yml, then .json); the report names it.
 */
export function profileSearchRoots(nearDir?: string): string[] {
  return [nearDir ? resolve(nearDir, '..') : undefined, nearDir, packageRoot].filter((r): r is string => !!r);
}

/** Finds a named profile file of a kind, next to the scenario first, then in the package. */
export function profilePath(kind: ProfileKind, name: string, nearDir?: string): string | undefined {
  for (const root of profileSearchRoots(nearDir)) {
    for (const ext of ['.yaml', '.yml', '.json']) {
      const p = join(root, ...profileDirs[kind], name + ext);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/** Whether a profile file is the package's own copy, and its path as the report prints it. */
export function describeSource(kind: ProfileKind, name: string, path: string, field: string): ProfileSource {
  const bundledDir = join(packageRoot, ...profileDirs[kind]) + sep;
  const bundled = resolve(path).startsWith(bundledDir);
  return { field, kind, name, path: bundled ? relative(packageRoot, path).split(sep).join('/') : relative(process.cwd(), path) || path, origin: bundled ? 'bundled' : 'local' };
}

/** Loads and validates one named profile; `sources`, when given, records the file used. */
export function loadProfile<K extends ProfileKind>(kind: K, name: string, nearDir?: string, referencedFrom?: { file: string; field: string }, sources?: ProfileSource[]): z.output<(typeof profileSchemas)[K]> {
  const { path, raw } = readProfile(kind, name, nearDir, referencedFrom);
  sources?.push(describeSource(kind, name, path, referencedFrom?.field ?? kind));
  const parsed = profileSchemas[kind].safeParse(raw, { reportInput: true });
  if (!parsed.success) throw zodError(parsed.error, path);
  return parsed.data as z.output<(typeof profileSchemas)[K]>;
}

/** Finds and reads a named profile, unvalidated. */
export function readProfile(kind: ProfileKind, name: string, nearDir?: string, referencedFrom?: { file?: string; field: string }): { path: string; raw: unknown } {
  const path = profilePath(kind, name, nearDir);
  if (!path) {
    throw new UserError(`no ${kind} profile named "${name}"`, referencedFrom?.file, referencedFrom?.field, `looked in ${join(...profileDirs[kind])}/; run 'clusterplan profiles' to list them`);
  }
  return { path, raw: readDataFile(path) };
}

/** A lookup for the validator: missing profiles are undefined, broken ones still throw. */
export function packageProfiles(): ProfileLookup {
  const cache = new Map<string, unknown>();
  const get = <K extends 'gpu' | 'node' | 'fabric' | 'software'>(kind: K) => (name: string) => {
    const key = `${kind}:${name}`;
    if (!cache.has(key)) cache.set(key, profilePath(kind, name) ? loadProfile(kind, name) : undefined);
    return cache.get(key) as never;
  };
  return { gpu: get('gpu'), node: get('node'), fabric: get('fabric'), software: get('software') };
}

/** Names of the bundled profiles of each kind. */
export function listProfiles(): Record<string, string[]> {
  const dirs: Record<string, string> = { gpus: 'hardware-profiles/gpus', nodes: 'hardware-profiles/nodes', fabrics: 'hardware-profiles/fabrics', failures: 'hardware-profiles/failures', models: 'models', software: 'software', scenarios: 'scenarios' };
  const out: Record<string, string[]> = {};
  for (const [kind, dir] of Object.entries(dirs)) {
    const p = join(packageRoot, dir);
    out[kind] = existsSync(p) ? readdirSync(p).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f))).map((f) => basename(f, extname(f))).sort() : [];
  }
  return out;
}
