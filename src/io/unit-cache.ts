/**
 * Build-time cache of unit strings: `npm run build` parses every bundled profile, model and
 * scenario (with mathjs, as always) and writes the parsed values to dist/unit-cache.json; the
 * compiled CLI primes the unit memo from it, which keeps mathjs (~50 ms to load) off the start-up
 * path of `evaluate` on bundled files. Strings not in the cache are parsed by mathjs as usual.
 */
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { primeUnitMemo, unitMemoEntries } from '../units/quantity.js';
import { loadScenario, loadProfile } from './load.js';

/**
 * Primes the unit memo from the cache written by the build, when this code runs from dist/.
 * Called once by the CLI at start-up (src/cli/main.ts); nothing primes it at import time.
 */
export function loadUnitCache(root: string, moduleFile: string): void {
  if (!moduleFile.startsWith(join(root, 'dist') + sep)) return;
  const cacheFile = join(root, 'dist', 'unit-cache.json');
  if (!existsSync(cacheFile)) return;
  try {
    primeUnitMemo(JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, number>);
  } catch {
    // A broken cache only costs start-up time: every string is parsed again.
  }
}

/** Parses every bundled file and writes the unit memo next to the compiled code. */
export async function writeUnitCache(root: string): Promise<number> {
  const kinds = [['gpu', 'hardware-profiles/gpus'], ['node', 'hardware-profiles/nodes'], ['fabric', 'hardware-profiles/fabrics'], ['failures', 'hardware-profiles/failures'], ['model', 'models']] as const;
  for (const [kind, dir] of kinds) {
    const p = join(root, dir);
    if (!existsSync(p)) continue;
    for (const f of readdirSync(p).filter((x) => /\.(ya?ml|json)$/.test(x))) loadProfile(kind, f.replace(/\.(ya?ml|json)$/, ''));
  }
  for (const f of readdirSync(join(root, 'scenarios')).filter((x) => /\.(ya?ml|json)$/.test(x))) loadScenario(join(root, 'scenarios', f));
  const entries = unitMemoEntries();
  writeFileSync(join(root, 'dist', 'unit-cache.json'), JSON.stringify(entries, null, 1) + '\n');
  return Object.keys(entries).length;
}
