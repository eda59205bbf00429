import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataFile } from '../../src/io/files.js';
import { useParseCache, stopParseCache, parseCacheFile } from '../../src/io/parse-cache.js';
import { writeParseCache } from '../../src/io/build-cache.js';

/** A package-shaped folder: data files in scenarios/ and validation/, and a dist/ for the cache. */
function fakePackage(): string {
  const root = mkdtempSync(join(tmpdir(), 'parse-cache-'));
  for (const d of ['scenarios', 'validation', 'dist']) mkdirSync(join(root, d));
  writeFileSync(join(root, 'scenarios', 'a.yaml'), 'name: a\nplan: { tp: 8, pp: 16 }\nlist: [1, 2.5, "x"]\nshared: &s { k: 1 }\nagain: *s\n');
  writeFileSync(join(root, 'scenarios', 'inf.yaml'), 'limit: .inf\n');
  writeFileSync(join(root, 'scenarios', 'broken.yaml'), 'a: [1, 2\n');
  writeFileSync(join(root, 'validation', 'b.json'), '{"cases": [{"id": "x", "v": 1e3}]}');
  return root;
}

describe('the build-time parse cache', () => {
  afterEach(() => stopParseCache());

  it('gives the value a fresh parse gives, for YAML and JSON, and only for the text it was built from', () => {
    const root = fakePackage();
    const a = join(root, 'scenarios', 'a.yaml');
    const b = join(root, 'validation', 'b.json');
    const fresh = [readDataFile(a), readDataFile(b)];
    expect(writeParseCache(root)).toBe(2); // a.yaml and b.json; not inf.yaml (JSON cannot hold Infinity), not the broken file
    expect(existsSync(parseCacheFile(root, a)!)).toBe(true);
    expect(existsSync(parseCacheFile(root, join(root, 'scenarios', 'inf.yaml'))!)).toBe(false);
    useParseCache(root, join(root, 'dist', 'cli', 'main.js'));
    expect([readDataFile(a), readDataFile(b)]).toEqual(fresh);
    // The cached value is what is returned: an entry with another value shows it was read.
    const entry = parseCacheFile(root, a)!;
    const [text] = JSON.parse(readFileSync(entry, 'utf8')) as [string, unknown];
    writeFileSync(entry, JSON.stringify([text, { fromCache: true }]));
    expect(readDataFile(a)).toEqual({ fromCache: true });
    // An edited file is parsed again, never answered from the old entry.
    writeFileSync(a, 'name: edited\n');
    expect(readDataFile(a)).toEqual({ name: 'edited' });
    // Errors are the parser's own.
    expect(() => readDataFile(join(root, 'scenarios', 'broken.yaml'))).toThrow(/malformed YAML/);
  });

  it('is not used from the TypeScript sources, nor for files outside the package', () => {
    const root = fakePackage();
    const a = join(root, 'scenarios', 'a.yaml');
    writeParseCache(root);
    writeFileSync(parseCacheFile(root, a)!, JSON.stringify([readFileSync(a, 'utf8'), { fromCache: true }]));
    useParseCache(root, join(root, 'src', 'cli', 'main.ts'));
    expect(readDataFile(a)).not.toEqual({ fromCache: true });
    expect(parseCacheFile(root, join(tmpdir(), 'elsewhere.yaml'))).toBeUndefined();
    expect(parseCacheFile(root, join(root, 'dist', 'x.json'))).toBeUndefined();
  });
});
