// `npm run build` after tsc: the CLI bundle (dist/clusterplan.cjs) and its entry
// (dist/clusterplan.mjs), the compare screen's bundle (dist/ui.mjs), the unit and parse caches of
// the bundled files, V8's code cache of the CLI bundle (one `evaluate` of the default scenario),
// the start-up snapshot bin/clusterplan starts from (dist/clusterplan.blob), then the stamp
// bin/clusterplan compares with src/.
import { copyFileSync, existsSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { constants as vmConstants } from 'node:vm';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
/**
 * V8 flags the start-up snapshot is made and run under. A young generation of 16 MB from the
 * start (V8 starts at 1 MB and grows to the same 16 MB limit): an `evaluate` of the default
 * scenario then collects garbage 2 times instead of 15, with about half the pause time
 * (--trace-gc, shared machine). The price is memory taken up front by every heap, a worker
 * thread's too: resident 112 MB instead of 99 MB for that `evaluate`, 189 MB instead of 128 MB
 * for `failures --trials 3000 --workers 2` (same CPU time). --min-semi-space-size=64 removed the
 * last two collections too, at 389 MB for that `failures`.
 */
const SNAPSHOT_FLAGS = ['--min-semi-space-size=16'];

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
const scenario = join(root, 'scenarios', 'llama3-405b.yaml');
const quiet = { ...process.env, NODE_OPTIONS: '' };
rmSync(cache, { force: true });
const run = spawnSync(process.execPath, [join(dist, 'clusterplan.mjs'), 'evaluate', scenario], {
  cwd: root,
  env: { ...quiet, CLUSTERPLAN_CODE_CACHE: 'write' },
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 1 << 26,
});
if (run.status !== 0) {
  // Only start-up time is lost: the bundle compiles from source without a cache.
  rmSync(cache, { force: true });
  process.stderr.write(`warning: the code cache run of evaluate exited ${run.status}; dist/clusterplan.cjs runs without a code cache\n`);
}
buildSnapshot(run.status === 0 ? run.stdout : null);
writeFileSync(join(dist, '.build-stamp'), '');

/**
 * The start-up snapshot (bin/snapshot-entry.cjs): the bundle loaded and every command's modules
 * initialised, which bin/clusterplan starts node from. dist/snapshot.txt says what it was made
 * with: the node binary, the package root it loaded the bundle from, the processor and the V8
 * flags it runs under (node refuses a snapshot made by another binary, on a processor with other
 * features or run under other V8 flags, exiting 14, so
 * the launcher checks them before using it). It is kept only when an `evaluate` started
 * from it prints exactly what the bundle printed; otherwise the launcher runs the bundle.
 */
function buildSnapshot(expected) {
  const blob = join(dist, 'clusterplan.blob');
  const info = join(dist, 'snapshot.txt');
  rmSync(blob, { force: true });
  rmSync(info, { force: true });
  const skip = (why) => process.stderr.write(`warning: no start-up snapshot (${why}); bin/clusterplan runs the bundle\n`);
  // The compare screen's import() from the snapshot needs Node's default loader for vm scripts (Node 20.12+).
  if (!vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER) return skip(`node ${process.version} has no vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER`);
  if (expected === null) return skip('no code cache');
  // V8 takes a code cache only under the flags it was made with: one more `evaluate`, under the snapshot's.
  const snapCache = join(dist, 'snapshot-code.cache');
  rmSync(snapCache, { force: true });
  const warm = spawnSync(process.execPath, [...SNAPSHOT_FLAGS, join(dist, 'clusterplan.mjs'), 'evaluate', scenario], {
    cwd: root,
    env: { ...quiet, CLUSTERPLAN_CODE_CACHE: 'write', CLUSTERPLAN_CODE_CACHE_FILE: snapCache },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (warm.status !== 0 || !existsSync(snapCache)) return skip(`the code cache run under the snapshot's flags exited ${warm.status}`);
  const tmp = `${blob}.tmp`;
  const made = spawnSync(process.execPath, [...SNAPSHOT_FLAGS, '--snapshot-blob', tmp, '--build-snapshot', join(root, 'bin', 'snapshot-entry.cjs')], {
    cwd: root,
    env: { ...quiet, CLUSTERPLAN_SNAPSHOT_CODE_CACHE: snapCache },
    encoding: 'utf8',
  });
  rmSync(snapCache, { force: true });
  // Node warns that node:module and node:worker_threads are "not yet fully verified" in a
  // snapshot: the check below runs the snapshot for real instead; other messages are shown.
  const messages = (made.stderr ?? '').split('\n\n').filter((m) => m.trim() && !/not yet fully verified|--trace-warnings/.test(m));
  if (made.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    return skip(`the snapshot build exited ${made.status}: ${messages.join(' ').slice(0, 400)}`);
  }
  if (messages.length > 0) process.stderr.write(messages.join('\n') + '\n');
  const check = spawnSync(process.execPath, [...SNAPSHOT_FLAGS, '--snapshot-blob', tmp, 'evaluate', scenario], { cwd: root, env: quiet, maxBuffer: 1 << 26 });
  if (check.status !== 0 || !Buffer.from(check.stdout).equals(Buffer.from(expected))) {
    rmSync(tmp, { force: true });
    return skip(`evaluate from the snapshot exited ${check.status}${check.status === 0 ? ' with other output than the bundle' : ''}`);
  }
  renameSync(tmp, blob);
  writeFileSync(info, `${process.execPath}\n${realpathSync(root)}\n${cpuFingerprint()}\n${SNAPSHOT_FLAGS.join(' ')}\n`);
}

/**
 * The processor as bin/clusterplan reads it (V8's snapshot check includes the CPU features it
 * detected): the identity and flag lines of the first processor in /proc/cpuinfo, each after a
 * "|"; empty where there is no /proc/cpuinfo.
 */
function cpuFingerprint() {
  let text;
  try {
    text = readFileSync('/proc/cpuinfo', 'latin1');
  } catch {
    return '';
  }
  let out = '';
  for (const line of text.split('\n')) {
    if (line === '') break;
    if (/^(vendor_id|cpu family|model|flags|Features|CPU)/.test(line)) out += `|${line}`;
  }
  return out;
}
