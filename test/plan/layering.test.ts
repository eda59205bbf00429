/** Imports only point down the layer list of design.md; the core under src/ stays pure. */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const layers = ['units', 'schema', 'model', 'system', 'plan', 'sim', 'step', 'run', 'validation', 'search', 'io', 'report', 'ui', 'cli'];
const src = resolve(__dirname, '../../src');
const pure = new Set(['units', 'schema', 'model', 'system', 'plan', 'sim', 'step', 'run', 'validation', 'search', 'report', 'ui']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}
const layerOf = (file: string) => relative(src, file).split('/')[0];

describe('layering', () => {
  for (const file of files(src)) {
    const layer = layerOf(file);
    if (!layers.includes(layer)) continue;
    it(`${relative(src, file)} imports only lower layers`, () => {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
        const target = layerOf(resolve(dirname(file), m[1]));
        if (!layers.includes(target)) continue;
        expect(layers.indexOf(target), `${relative(src, file)} imports ${m[1]}`).toBeLessThanOrEqual(layers.indexOf(layer));
      }
      if (pure.has(layer) && !file.endsWith('worker.ts')) {
        expect(text, 'no fs in the core').not.toMatch(/from 'node:fs'|from 'fs'/);
        expect(text, 'no global randomness').not.toMatch(/Math\.random\(/);
        expect(text, 'no wall clock').not.toMatch(/Date\.now\(|performance\.now\(/);
      }
    });
  }
});
