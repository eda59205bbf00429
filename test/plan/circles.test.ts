/**
 * No import circles under src/, inside a folder as well as between folders (the layering test
 * beside this one only sees imports that run up the layer list). Every static import and
 * re-export counts, type-only ones too: a circle of types is still two modules that cannot be
 * read, tested or moved apart. Dynamic import() (lazy command loading) is not a circle.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const src = resolve(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}

/** The source file an import specifier names ('./x.js' is x.ts or x.tsx), or undefined outside src/. */
function target(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  return [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((p) => existsSync(p));
}

/** Static imports and re-exports of each file (strings and comments removed first would be stricter; specifiers are quoted paths). */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files(root)) {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)].map((m) => target(file, m[1])).filter((p): p is string => p !== undefined);
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
export function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return out;
}

describe('import circles', () => {
  it('the detector finds a circle inside one folder and one across folders, and none in a chain', () => {
    const g = new Map([
      ['a/x', ['a/y']],
      ['a/y', ['a/x']],
      ['b/p', ['c/q']],
      ['c/q', ['d/r']],
      ['d/r', ['b/p']],
      ['e/s', ['e/t']],
      ['e/t', []],
    ]);
    expect(circles(g)).toEqual([['a/x', 'a/y'], ['b/p', 'c/q', 'd/r']]);
  });

  it('src/ has none, within a folder or across folders', () => {
    const graph = importGraph(src);
    expect(graph.size).toBeGreaterThan(50);
    // The parser sees single-line, multi-line and type-only imports (else an empty graph would pass).
    expect(graph.get(join(src, 'cli/evaluate.ts'))).toEqual(expect.arrayContaining([join(src, 'io/load.ts'), join(src, 'step/des/types.ts'), join(src, 'cli/options.ts')]));
    expect([...graph.values()].reduce((n, deps) => n + deps.length, 0)).toBeGreaterThan(300);
    const found = circles(graph).map((scc) => scc.map((f) => relative(src, f)).join(' ↔ '));
    expect(found).toEqual([]);
  });
});
