/** Profile lookups by name from hardware-profiles/, cached; unknown names give undefined. */
import { readdirSync, existsSync } from 'node:fs';
import { join, extname, basename } from 'node:path';
import type { ProfileLookup } from '../validation/cases.js';
import { loadProfile, profilePath, packageRoot } from './load.js';

/** A lookup for the validator: missing profiles are undefined, broken ones still throw. */
export function packageProfiles(): ProfileLookup {
  const cache = new Map<string, unknown>();
  const get = <K extends 'gpu' | 'node' | 'fabric'>(kind: K) => (name: string) => {
    const key = `${kind}:${name}`;
    if (!cache.has(key)) cache.set(key, profilePath(kind, name) ? loadProfile(kind, name) : undefined);
    return cache.get(key) as never;
  };
  return { gpu: get('gpu'), node: get('node'), fabric: get('fabric') };
}

/** Names of the bundled profiles of each kind. */
export function listProfiles(): Record<string, string[]> {
  const dirs: Record<string, string> = { gpus: 'hardware-profiles/gpus', nodes: 'hardware-profiles/nodes', fabrics: 'hardware-profiles/fabrics', failures: 'hardware-profiles/failures', models: 'models', scenarios: 'scenarios' };
  const out: Record<string, string[]> = {};
  for (const [kind, dir] of Object.entries(dirs)) {
    const p = join(packageRoot, dir);
    out[kind] = existsSync(p) ? readdirSync(p).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f))).map((f) => basename(f, extname(f))).sort() : [];
  }
  return out;
}
