/**
 * `clusterplan compare <scenario|plan-file>...`: several plans side by side. In a terminal it opens
 * the Ink screen (src/ui), which shows rows as their evaluations arrive from a worker thread; piped,
 * or with --json / --csv, it prints the same rows as a plain table, JSON or CSV and exits 0.
 */
import type { CommandModule } from 'yargs';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { readPlanSpecs, type PlanSpec } from '../io/plan-file.js';
import type { EngineName } from '../run/evaluate.js';
import { UserError } from '../errors.js';
import { compareCsv, compareJson, renderCompareTable, type ComparePlan } from '../report/compare.js';
import type { CompareAppProps } from '../ui/compare-app.js';
import { runRequest, type CompareRequest, type CompareResponse } from './compare-eval.js';
import { EVALUATE_FAILURE_TRIALS } from './evaluate.js';
import { reportError, setsOption } from './common.js';

interface Args {
  plans: string[];
  set?: string[];
  vary?: string[];
  search?: boolean;
  json?: boolean;
  csv?: boolean;
  trials: number;
  engine?: EngineName;
}

/** Plan fields whose change alters the GPU count per replica: varying them re-derives dp (unless dp is given too). */
const RESHAPES_DP = new Set(['plan.tp', 'plan.cp', 'plan.pp', 'cluster.gpus']);

export const compareCommand: CommandModule<object, Args> = {
  command: 'compare <plans..>',
  describe: 'Compare plans side by side: memory fit, step time, MFU, days with failures, cost (interactive in a terminal)',
  builder: (y) =>
    y
      .positional('plans', { type: 'string', array: true, demandOption: true, describe: 'scenario files, or plan files (a scenario plus overrides)' })
      .option('set', { type: 'string', array: true, describe: 'override a field in every plan: path=value (repeatable)' })
      .option('vary', { type: 'string', array: true, describe: 'one plan per value, e.g. --vary tp=4,8 --vary pp=8,16 (every combination; a bare key is plan.<key>; varying tp, cp, pp or gpus re-derives dp)' })
      .option('search', { type: 'boolean', describe: 'add the best plans of `clusterplan search` to the table' })
      .option('json', { type: 'boolean', describe: 'print JSON instead of the table' })
      .option('csv', { type: 'boolean', describe: 'print CSV instead of the table' })
      .conflicts('json', 'csv')
      .option('trials', { type: 'number', default: EVALUATE_FAILURE_TRIALS, describe: 'failure Monte Carlo trials per plan (as evaluate)' })
      .option('engine', { choices: ['des', 'analytic'] as const, describe: 'step engine (default: each scenario’s, des)' }) as never,
  handler: async (args) => {
    try {
      if (!(Number.isInteger(args.trials) && args.trials >= 1 && args.trials <= 100_000)) throw new UserError(`must be a whole number from 1 to 100,000, got ${args.trials}`, undefined, '--trials');
      // The search engine lands separately; until then say so rather than ignore the flag.
      if (args.search) throw new UserError('not available in this build: the plan search is not wired into compare yet', undefined, '--search');
      if (args.plans.length === 0) throw new UserError('name at least one scenario or plan file, e.g. clusterplan compare scenarios/llama3-405b.yaml scenarios/llama3-405b-8k-gpus.yaml', undefined, 'plans');
      const { plans: pending, requests } = planRequests(args.plans, setsOption(args.set), parseVary(setsOption(args.vary)), args);
      const interactive = !args.json && !args.csv && process.stdout.isTTY === true && process.stdin.isTTY === true;
      if (interactive) {
        await runInteractive(pending, requests);
        return;
      }
      // Here and now, in order; a file that does not load throws (exit 2).
      const plans = pending.map((p, i) => {
        let plan = p;
        runRequest(requests[i], (r) => (plan = applyResponse(plan, r)));
        return plan;
      });
      if (args.json) process.stdout.write(compareJson(plans));
      else if (args.csv) process.stdout.write(compareCsv(plans));
      else process.stdout.write(renderCompareTable(plans, { width: process.stdout.isTTY ? process.stdout.columns : undefined }));
    } catch (e) {
      reportError(e);
    }
  },
};

/** One `--vary path=v1,v2,...`. */
interface Vary {
  path: string;
  values: string[];
}

/** Reads `--vary key=v1,v2`; a bare key means plan.<key> (gpus means cluster.gpus). */
export function parseVary(list: string[]): Vary[] {
  return list.map((s) => {
    const eq = s.indexOf('=');
    const values = eq > 0 ? s.slice(eq + 1).split(',').map((v) => v.trim()) : [];
    if (eq <= 0 || values.some((v) => v === '')) throw new UserError(`expects key=value1,value2,..., got "${s}"`, undefined, '--vary');
    const key = s.slice(0, eq).trim();
    return { path: key.includes('.') ? key : key === 'gpus' ? 'cluster.gpus' : `plan.${key}`, values };
  });
}

/** Every combination of the varied values, as `path=value` lists (the first --vary outermost). */
function combinations(varies: Vary[]): string[][] {
  return varies.reduce<string[][]>((acc, v) => acc.flatMap((c) => v.values.map((x) => [...c, `${v.path}=${x}`])), [[]]);
}

/**
 * The plans to compare, in order: each file's plans, times every --vary combination, as rows
 * waiting for their evaluation and the requests that evaluate them. Only the plan files are read
 * here (the scenarios load with the evaluation, off the screen's thread).
 */
export function planRequests(files: string[], sets: string[], varies: Vary[], options: { engine?: EngineName; trials: number }): { plans: ComparePlan[]; requests: CompareRequest[] } {
  const specs: PlanSpec[] = files.flatMap((f) => readPlanSpecs(f));
  const combos = combinations(varies);
  const varied = new Set(varies.map((v) => v.path));
  const rederiveDp = [...varied].some((p) => RESHAPES_DP.has(p)) && !varied.has('plan.dp') && !sets.some((s) => s.startsWith('plan.dp='));
  const plans: ComparePlan[] = [];
  const requests: CompareRequest[] = [];
  const seen = new Map<string, number>();
  for (const spec of specs) {
    const base = [...spec.sets, ...sets];
    combos.forEach((combo, k) => {
      let name = combo.length ? `${spec.name} ${combo.map((c) => c.replace(/^(plan|cluster)\./, '')).join(' ')}` : spec.name;
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      if (n > 1) name += ` (${n})`;
      const plan: ComparePlan = { id: plans.length, name, source: spec.source, sets: [...base, ...combo], failures: 'pending' };
      plans.push(plan);
      // The first combination of a file also loads the file as given: if that fails, the file or a --set is wrong (exit 2).
      requests.push({ id: plan.id, file: spec.scenarioFile, sets: plan.sets, rederiveDp: combo.length > 0 && rederiveDp, varied: combo.length > 0, baseSets: combo.length && k === 0 ? base : undefined, engine: options.engine, trials: options.trials });
    });
  }
  return { plans, requests };
}

/** Applies an evaluation answer to its plan (a new object, so the screen re-renders it). */
function applyResponse(p: ComparePlan, r: CompareResponse): ComparePlan {
  if (r.type === 'step') return { ...p, evaluation: r.evaluation, step: r.step };
  if (r.type === 'error') return { ...p, error: r.user ? r.message : `internal error: ${r.message.split('\n')[0]}`, failures: 'none', evaluation: undefined, step: undefined };
  if (!p.evaluation) return p;
  const evaluation = { ...p.evaluation, notes: r.note ? [...p.evaluation.notes, r.note] : p.evaluation.notes, ...(r.failures ? { failures: r.failures } : {}) };
  return { ...p, evaluation, failures: r.failures ? 'done' : 'none' };
}

/** Starts a compare worker: compare-worker.js beside this module, or the .ts through tsx when running from sources. */
function startWorker(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Loader hooks of the main thread do not reach workers: register tsx in the worker, then load the entry.
    const tsxApi = pathToFileURL(join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
    const entry = new URL('./compare-worker.ts', here).href;
    return new Worker(`import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
  }
  // The single-file bundle (dist/clusterplan.mjs) sits one level above dist/cli/.
  return new Worker(new URL(here.endsWith('/clusterplan.mjs') ? './cli/compare-worker.js' : './compare-worker.js', here));
}

/**
 * Loads the Ink screen. The import is computed so esbuild leaves Ink and React out of the CLI's
 * single-file bundle (the other commands do not pay for them at start-up); the build bundles the
 * screen on its own as dist/ui.mjs.
 */
async function loadUi(): Promise<typeof import('../ui/compare-app.js')> {
  const here = import.meta.url;
  // From the single-file CLI bundle, the screen's own bundle (Ink and React in one file load about twice as fast).
  const entry = here.endsWith('.ts') ? '../ui/compare-app.tsx' : here.endsWith('/clusterplan.mjs') ? './ui.mjs' : '../ui/compare-app.js';
  return (await import(new URL(entry, here).href)) as typeof import('../ui/compare-app.js');
}

/** The Ink screen: renders at once with pending rows, then re-renders as each worker answer arrives. */
async function runInteractive(pending: ComparePlan[], requests: CompareRequest[]): Promise<void> {
  let plans = pending;
  const queue = [...requests];
  const total = requests.length;
  const workers: Worker[] = [];
  let fatal: string | undefined;
  let app: { update: (p: CompareAppProps) => void; waitUntilExit: () => Promise<unknown>; exit: () => void } | undefined;
  const size = Math.max(1, Math.min(4, availableParallelism() - 1, queue.length));
  const refresh = () => app?.update(props());
  const first = pending[0].source;
  const defaultExportPath = join(dirname(first), `${basename(first, extname(first))}-compare`);
  const onExport = (path: string, shown: readonly ComparePlan[]): string => {
    try {
      writeFileSync(`${path}.csv`, compareCsv(shown));
      writeFileSync(`${path}.json`, compareJson(shown));
      return `wrote ${path}.csv and ${path}.json (${shown.length} plans)`;
    } catch (e) {
      return `export failed: ${(e as Error).message}`;
    }
  };
  const progress = () => {
    const steps = plans.filter((p) => p.evaluation || p.error).length;
    const mc = plans.filter((p) => p.failures !== 'pending').length;
    return steps + mc < 2 * total ? { done: steps, total, label: `evaluated ${steps}/${total} plans · Monte Carlo ${mc}/${total}` } : null;
  };
  function props(): CompareAppProps {
    return { title: `clusterplan compare · ${plans.length} plan${plans.length === 1 ? '' : 's'}`, plans, progress: progress(), defaultExportPath, onExport };
  }
  // The first frame comes before the workers start: on a busy machine they would compete with it
  // for the CPU, and their answers replace the pending rows a moment later.
  const startWorkers = () => {
    for (let i = 0; i < size; i++) {
      const w = startWorker();
      let current: number | undefined;
      const feed = () => {
        const next = queue.shift();
        current = next?.id;
        if (next) w.postMessage(next);
      };
      w.on('message', (r: CompareResponse) => {
        if (r.type === 'error' && r.fatal) {
          fatal ??= r.message;
          app?.exit();
          return;
        }
        plans = plans.map((p) => (p.id === r.id ? applyResponse(p, r) : p));
        if (r.type !== 'step') feed();
        refresh();
      });
      w.on('error', (e) => {
        if (current !== undefined) plans = plans.map((p) => (p.id === current ? applyResponse(p, { id: p.id, type: 'error', message: e.message, user: false }) : p));
        refresh();
      });
      workers.push(w);
      feed();
    }
  };
  try {
    const { renderCompare } = await loadUi();
    app = renderCompare(props());
    startWorkers();
    await app.waitUntilExit();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // A file or --set that does not load is the user's error, as in every command: one line, exit 2.
  if (fatal !== undefined) reportError(new UserError(fatal));
}
