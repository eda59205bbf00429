/**
 * Build-time cache of unit strings: `npm run build` parses every bundled profile, model and
 * scenario (with mathjs, as always) and writes the parsed values to dist/unit-cache.json; the
 * compiled CLI primes the unit memo from it, which keeps mathjs (~50 ms to load) off the start-up
 * path of `evaluate` on bundled files. Strings not in the cache are parsed by mathjs as usual.
 * The build writes it (io/build-cache.ts).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { primeUnitMemo } from '../units/quantity.js';

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
