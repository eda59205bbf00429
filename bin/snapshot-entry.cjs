// The entry of the CLI's V8 start-up snapshot, run by `npm run build` (bin/build.mjs) as
//   node <flags> --snapshot-blob dist/clusterplan.blob --build-snapshot bin/snapshot-entry.cjs
// It loads the CLI bundle (dist/clusterplan.cjs, with V8's code cache so its functions carry
// bytecode into the snapshot) and prepares it (src/cli/main.ts prepareSnapshot: every command's
// modules initialised, each file kind's zod schema run once); the snapshot then holds that heap,
// and bin/clusterplan starts node from it instead of loading the bundle (see the launcher for
// when it does). Nothing here runs at a user's start-up but the function given to
// setDeserializeMainFunction.
'use strict';
const { readFileSync, existsSync } = require('node:fs');
const { Script } = require('node:vm');
const { join } = require('node:path');
const { startupSnapshot } = require('node:v8');

const root = join(__dirname, '..');
const dist = join(root, 'dist');
const bundle = join(dist, 'clusterplan.cjs');
// The code cache made under the snapshot's V8 flags (bin/build.mjs); without one the functions
// start without bytecode and compile on first use.
const cacheFile = process.env.CLUSTERPLAN_SNAPSHOT_CODE_CACHE;

// main.ts: load, but do not run the program at import.
const building = Symbol.for('clusterplan.snapshot');
globalThis[building] = true;
// A live Intl object cannot be serialized (V8 aborts the build): yargs's text wrapping
// (string-width) makes an Intl.Segmenter at import. While the bundle loads, the segmenters it
// makes are stand-ins that make the real one on first use, at run time.
const RealSegmenter = Intl.Segmenter;
Intl.Segmenter = class Segmenter {
  constructor(...args) {
    this.args = args;
  }
  segment(text) {
    this.real ??= new RealSegmenter(...this.args);
    return this.real.segment(text);
  }
};
const text = readFileSync(bundle).toString('latin1');
const source = `(function (exports, require, module, __filename, __dirname) { ${text}\n})`;
const script = new Script(source, { filename: bundle, cachedData: cacheFile && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined });
if (script.cachedDataRejected) process.emitWarning('the code cache was rejected: the snapshot holds the bundle without bytecode');
const cli = { exports: {} };
// Node's require here loads built-in modules only, which is all the bundle asks for at import
// (mathjs, its one external, is loaded with a require made when it is needed). worker_threads
// loaded here would start no worker at run time (its shared state with workers, made at load,
// does not survive the snapshot): the bundle gets a stand-in that loads it on first use.
const lazy = new Set(['node:worker_threads', 'worker_threads']);
const bundleRequire = (id) => (lazy.has(id) ? new Proxy({}, { get: (_, key) => require(id)[key] }) : require(id));
script.runInThisContext().call(cli.exports, cli.exports, bundleRequire, cli, bundle, dist);
Intl.Segmenter = RealSegmenter;
delete globalThis[building];
const loaded = cli.exports.prepareSnapshot();

// Node 20 leaves console.Console undefined in a process started from a user snapshot (the
// compare screen's Ink makes a Console); the constructor itself survives, so it is put back.
const { Console } = console;

startupSnapshot.setDeserializeMainFunction(() => {
  console.Console ??= Console;
  // Started from the snapshot, node's argv has no script: put the launcher's path where the
  // CLI (yargs, the bug report) expects the script, so argv.slice(2) is the command line.
  process.argv.splice(1, 0, join(root, 'bin', 'clusterplan'));
  // A function deserialized from the snapshot has no import() of its own; the compare screen's
  // one import() of a file (src/io/import-module.ts) gets one from Node's default loader.
  globalThis[Symbol.for('clusterplan.import')] = (url) => dynamicImport()(url);
  loaded.then(() => cli.exports.main());
});

let importer;
function dynamicImport() {
  if (importer) return importer;
  const { constants } = require('node:vm');
  // Node (20.12 and later) warns, when the import runs, that this loader option is
  // experimental: a warning the user cannot act on, so that one is not shown.
  const emit = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    if (!String(warning?.message ?? warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) emit.call(process, warning, ...rest);
  };
  importer = new Script('(url) => import(url)', { filename: join(dist, 'import.cjs'), importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext();
  return importer;
}
