// The CLI bundle's entry, copied by `npm run build` to dist/clusterplan.mjs (bin/clusterplan and
// `node dist/clusterplan.mjs` both run it). It runs the CommonJS bundle dist/clusterplan.cjs with
// V8's code cache dist/clusterplan.cjs.cache, written by the build after one `evaluate` of the
// default scenario: the bundle's functions then start as bytecode instead of being parsed and
// compiled again (about 60 ms of a cold `evaluate`). The cache is used only when it is newer than
// the bundle, and V8 itself refuses one made by another Node version or with other V8 flags, in
// which case the bundle is compiled from its source as usual. With CLUSTERPLAN_CODE_CACHE=write in
// the environment (the build sets it) the cache is written when the process exits (to
// CLUSTERPLAN_CODE_CACHE_FILE when that is set too).
import { readFileSync, writeFileSync, existsSync, statSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAscii } from 'node:buffer';
import { Script } from 'node:vm';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const bundle = join(dir, 'clusterplan.cjs');
const write = process.env.CLUSTERPLAN_CODE_CACHE === 'write';
// The build also makes a cache under the start-up snapshot's V8 flags, written elsewhere (bin/build.mjs).
const cacheFile = (write && process.env.CLUSTERPLAN_CODE_CACHE_FILE) || `${bundle}.cache`;
const fresh = !write && existsSync(cacheFile) && statSync(cacheFile).mtimeMs >= statSync(bundle).mtimeMs;
// CommonJS's own wrapper, on the bundle's first line so line numbers in stacks stay right.
// The build leaves the bundle pure ASCII: read as latin1 it needs no UTF-8 decoding (20-30 ms).
const bytes = readFileSync(bundle);
const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
const source = `(function (exports, require, module, __filename, __dirname) { ${text}\n})`;
const script = new Script(source, {
  filename: bundle,
  cachedData: fresh ? readFileSync(cacheFile) : undefined,
});
// Node 20 gives a vm.Script no import() without --experimental-vm-modules: the bundle's one
// import() of a file (the compare screen, dist/ui.mjs) comes here (src/io/import-module.ts).
globalThis[Symbol.for('clusterplan.import')] = (url) => import(url);
if (write) {
  process.on('exit', () => {
    writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
    renameSync(`${cacheFile}.tmp`, cacheFile);
  });
}
const module = { exports: {} };
script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, dir);
