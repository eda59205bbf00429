/**
 * What `npm run build` writes next to the compiled code for a fast start (never imported by the
 * CLI): the unit memo of every bundled file (dist/unit-cache.json, read by unit-cache.ts) and the
 * parsed value of every bundled data file (dist/parse-cache/, read by parse-cache.ts).
 */
import { readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync, rmSync } from 'node:fs';
import { join, extname } from 'node:path';
import { unitMemoEntries } from '../units/quantity.js';
import { loadScenario, loadProfile } from './load.js';
import { readDataFile } from './files.js';
import { PARSE_CACHE_DIR, parseCacheFile, stopParseCache, type ParseCacheEntry } from './parse-cache.js';

const PROFILE_KINDS = [['gpu', 'hardware-profiles/gpus'], ['node', 'hardware-profiles/nodes'], ['fabric', 'hardware-profiles/fabrics'], ['failures', 'hardware-profiles/failures'], ['model', 'models'], ['software', 'software']] as const;

/** The folders of bundled data files the parse cache covers. */
const DATA_DIRS = [...PROFILE_KINDS.map(([, dir]) => dir), 'scenarios', 'validation'];

const dataFiles = (root: string, dir: string): string[] =>
  existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((x) => /\.(ya?ml|json)$/i.test(x)).map((f) => join(root, dir, f)) : [];

/** Parses every bundled file and writes the unit memo next to the compiled code. */
export function writeUnitCache(root: string): number {
  for (const [kind, dir] of PROFILE_KINDS) for (const f of dataFiles(root, dir)) loadProfile(kind, f.slice(join(root, dir).length + 1).replace(/\.(ya?ml|json)$/i, ''));
  for (const f of dataFiles(root, 'scenarios')) loadScenario(f);
  const entries = unitMemoEntries();
  writeFileSync(join(root, 'dist', 'unit-cache.json'), JSON.stringify(entries, null, 1) + '\n');
  return Object.keys(entries).length;
}

/** Whether two plain values are the same, key order and -0 included (a JSON round trip must not change a value). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || !sameValue((a as Record<string, unknown>)[ka[i]], (b as Record<string, unknown>)[kb[i]])) return false;
  }
  return true;
}

/** Parses every bundled data file afresh and writes its cache entry; returns how many files were cached. */
export function writeParseCache(root: string): number {
  stopParseCache();
  rmSync(join(root, PARSE_CACHE_DIR), { recursive: true, force: true });
  mkdirSync(join(root, PARSE_CACHE_DIR), { recursive: true });
  let written = 0;
  for (const dir of DATA_DIRS) {
    for (const file of dataFiles(root, dir)) {
      const target = parseCacheFile(root, file);
      if (!target) continue;
      const text = readFileSync(file, 'utf8');
      let value: unknown;
      try {
        value = readDataFile(file);
      } catch {
        continue; // a file that does not parse is reported when it is read, as always
      }
      const isJson = extname(file).toLowerCase() === '.json';
      let entry: ParseCacheEntry;
      if (isJson) entry = [text];
      else {
        // Only values a JSON round trip keeps exactly (no NaN, Infinity or -0).
        if (!sameValue(value, JSON.parse(JSON.stringify(value)))) continue;
        entry = [text, value];
      }
      writeFileSync(target, JSON.stringify(entry));
      written++;
    }
  }
  return written;
}

/** Both caches (the build's last step). */
export function writeBuildCaches(root: string): { units: number; files: number } {
  return { units: writeUnitCache(root), files: writeParseCache(root) };
}
