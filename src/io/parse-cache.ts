/**
 * Build-time cache of parsed data files: `npm run build` parses every bundled profile, model,
 * software profile, scenario and validation file (through readDataFile, with every check) and
 * writes each file's text and value under dist/parse-cache/. The compiled CLI, once told to use
 * it, answers a read of a bundled file from there when the file's text on disk is exactly the
 * text that was parsed at build time; any other text (an edited copy, a local file) is parsed as
 * usual. The YAML parser and the JSON key checks cost 30–60 ms of a cold start; a cached file is
 * one JSON.parse. Values that JSON cannot hold (NaN, Infinity) are not cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The folder of cache entries, relative to the package root. */
export const PARSE_CACHE_DIR = join('dist', 'parse-cache');

/** A cache entry: the text that was parsed and, for YAML, its value (JSON text is its own value). */
export type ParseCacheEntry = [text: string] | [text: string, value: unknown];

let active: { root: string; dir: string } | null = null;

/**
 * Uses the build's parse cache of `root` when this code runs from its dist/ (not from src/
 * under tsx, where a cache could be older than the parser). Called once by the CLI at start-up.
 */
export function useParseCache(root: string, moduleFile: string): void {
  if (!moduleFile.startsWith(join(root, 'dist') + sep)) return;
  active = { root, dir: join(root, PARSE_CACHE_DIR) };
}

/** Stops using the cache (the build writes it from fresh parses). */
export function stopParseCache(): void {
  active = null;
}

/** Where the entry of a data file lives, or undefined for a file outside the package's data. */
export function parseCacheFile(root: string, file: string): string | undefined {
  const rel = relative(root, resolve(file));
  if (rel.startsWith('..') || rel.startsWith('dist' + sep) || rel.startsWith('node_modules' + sep) || isAbsolute(rel)) return undefined;
  return join(root, PARSE_CACHE_DIR, rel.split(sep).join('__') + '.json');
}

/** The cached value of `file` when its text is exactly the text parsed at build time; undefined otherwise. */
export function cachedParse(file: string, text: string, isJson: boolean): { value: unknown } | undefined {
  if (!active) return undefined;
  const entryFile = parseCacheFile(active.root, file);
  if (!entryFile || !existsSync(entryFile)) return undefined;
  try {
    const entry = JSON.parse(readFileSync(entryFile, 'utf8')) as ParseCacheEntry;
    if (entry[0] !== text) return undefined;
    if (isJson) return entry.length === 1 ? { value: JSON.parse(text) } : undefined;
    return entry.length === 2 ? { value: entry[1] } : undefined;
  } catch {
    // A broken entry only costs time: the file is parsed as usual.
    return undefined;
  }
}
