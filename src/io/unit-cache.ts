/**
 * Build-time cache of unit strings: `npm run build` parses every bundled profile, model and
 * scenario (with mathjs, as always) and writes the parsed values to dist/unit-cache.json; the
 * compiled CLI primes the unit memo from it, which keeps mathjs (~50 ms to load) off the start-up
 * path of `evaluate` on bundled files. Strings not in the cache are parsed by mathjs as usual.
 */
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { primeUnitMemo, unitMemoEntries } from '../units/quantity.js';

const here = dirname(fileURLToPath(import.meta.url));
const cacheFile = join(here, '..', 'unit-cache.json');

/** Primes the unit memo from the cache written by the build, when running from dist/. */
export function loadUnitCache(): void {
  if (!here.includes(`${'/'}dist${'/'}`) && !here.endsWith(`${'/'}dist${'/'}io`)) return;
  if (!existsSync(cacheFile)) return;
  try {
    primeUnitMemo(JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, number>);
  } catch {
    // A broken cache only costs start-up time: every string is parsed again.
  }
}

/** Parses every bundled file and writes the unit memo next to the compiled code. */
export async function writeUnitCache(root: string): Promise<number> {
  const { loadScenario, loadProfile } = await import('./load.js');
  const kinds = [['gpu', 'hardware-profiles/gpus'], ['node', 'hardware-profiles/nodes'], ['fabric', 'hardware-profiles/fabrics'], ['failures', 'hardware-profiles/failures'], ['model', 'models']] as const;
  for (const [kind, dir] of kinds) {
    const p = join(root, dir);
    if (!existsSync(p)) continue;
    for (const f of readdirSync(p).filter((x) => /\.(ya?ml|json)$/.test(x))) loadProfile(kind, f.replace(/\.(ya?ml|json)$/, ''));
  }
  for (const f of readdirSync(join(root, 'scenarios')).filter((x) => /\.(ya?ml|json)$/.test(x))) loadScenario(join(root, 'scenarios', f));
  const entries = unitMemoEntries();
  writeFileSync(cacheFile, JSON.stringify(entries, null, 1) + '\n');
  return Object.keys(entries).length;
}
