/**
 * import() of an ES module by URL from code that may run inside the CLI bundle. The bundle
 * (dist/clusterplan.cjs) runs as a vm.Script for V8's code cache, and Node 20 gives such a
 * script no import() of its own without --experimental-vm-modules; the bundle's entry
 * (bin/bundle-entry.mjs) supplies one under Symbol.for('clusterplan.import'). Elsewhere (the
 * module tree, tsx, tests) this is a plain import().
 */
export function importModule(url: string): Promise<unknown> {
  const hook = (globalThis as Record<symbol, unknown>)[Symbol.for('clusterplan.import')] as ((url: string) => Promise<unknown>) | undefined;
  return hook ? hook(url) : import(url);
}
