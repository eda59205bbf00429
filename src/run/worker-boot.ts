/**
 * Starting a worker thread on a module that sits beside the caller, wherever the code runs from:
 * the compiled dist/ (`<stem>.js` beside the caller), the single-file CLI bundle
 * (dist/clusterplan.mjs, one level above `<dir>/<stem>.js`) or the TypeScript sources through tsx.
 * The Monte Carlo pool (parallel.ts) and the compare screen's evaluator (cli/compare.ts) both use it.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * Starts the worker module `stem` beside the module at `callerUrl` (its import.meta.url); `dir` is
 * the caller's folder under dist/, where the worker lives when the caller is the CLI bundle.
 */
export function startSiblingWorker(callerUrl: string, stem: string, dir: string): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const bundled = callerUrl.endsWith('/clusterplan.mjs');
  const url = new URL(fromSource ? `./${stem}.ts` : bundled ? `./${dir}/${stem}.js` : `./${stem}.js`, callerUrl);
  if (!fromSource) return new Worker(url);
  // Loader hooks of the main thread (tsx, vitest) do not reach workers, and Node 20 ignores
  // --import in a worker's execArgv: register tsx in the worker first, then load the entry.
  const tsxRoot = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href; // the ESM build of tsx/esm/api
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true });
}
