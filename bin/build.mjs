// `npm run build` after tsc: the CLI bundle (dist/clusterplan.cjs) and its entry
// (dist/clusterplan.mjs), the compare screen's bundle (dist/ui.mjs), the unit and parse caches of
// the bundled files, V8's code cache of the CLI bundle (one `evaluate` of the default scenario),
// then the stamp bin/clusterplan compares with src/.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const banner = "import { createRequire as __clusterplanRequire } from 'node:module'; const require = __clusterplanRequire(import.meta.url);";
// What both bundles share: everything in, for Node 20, warnings only.
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: [join(dist, 'cli', 'main.js')],
  format: 'cjs',
  external: ['mathjs'],
  outfile: join(dist, 'clusterplan.cjs'),
  // CommonJS so V8's code cache applies (bin/bundle-entry.mjs); code that asks for its own URL gets the entry's, beside the bundle.
  define: { 'import.meta.url': '__clusterplanUrl' },
  banner: { js: "'use strict'; const __clusterplanUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, 'clusterplan.mjs')).href;" },
});
await build({
  ...common,
  entryPoints: [join(dist, 'ui', 'compare-app.js')],
  format: 'esm',
  alias: { 'react-devtools-core': join(dist, 'ui', 'devtools-stub.js') },
  // fetch undefined: yoga-layout then decodes its WebAssembly directly instead of loading Node's
  // fetch machinery (~80 ms of the compare screen's first frame)
  define: { 'process.env.NODE_ENV': '"production"', fetch: 'undefined' },
  outfile: join(dist, 'ui.mjs'),
  banner: { js: banner },
});
// esbuild writes strings and identifiers in ASCII but keeps comments as they are: escaping the
// few non-ASCII characters left (×, ·, – in comments) makes the bundle pure ASCII, so V8 holds
// its source as one byte per character and the entry reads it without UTF-8 decoding.
const cjs = join(dist, 'clusterplan.cjs');
writeFileSync(cjs, readFileSync(cjs, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
copyFileSync(join(root, 'bin', 'bundle-entry.mjs'), join(dist, 'clusterplan.mjs'));
const { writeBuildCaches } = await import(pathToFileURL(join(dist, 'io', 'build-cache.js')).href);
writeBuildCaches(root);
const cache = join(dist, 'clusterplan.cjs.cache');
rmSync(cache, { force: true });
const run = spawnSync(process.execPath, [join(dist, 'clusterplan.mjs'), 'evaluate', join(root, 'scenarios', 'llama3-405b.yaml')], {
  cwd: root,
  env: { ...process.env, CLUSTERPLAN_CODE_CACHE: 'write', NODE_OPTIONS: '' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (run.status !== 0) {
  // Only start-up time is lost: the bundle compiles from source without a cache.
  rmSync(cache, { force: true });
  process.stderr.write(`warning: the code cache run of evaluate exited ${run.status}; dist/clusterplan.cjs runs without a code cache\n`);
}
writeFileSync(join(dist, '.build-stamp'), '');
