// The last step of `npm run build`, after tsc and esbuild: the bundle's entry
// (dist/clusterplan.mjs), the unit and parse caches of the bundled files, V8's code cache of the
// bundle (one `evaluate` of the default scenario), then the stamp bin/clusterplan compares with src/.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
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
