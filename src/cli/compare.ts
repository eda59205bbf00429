/**
 * `clusterplan compare <scenario|plan-file>...`: several plans side by side. In a terminal it opens
 * the Ink screen (src/ui), which shows rows as their evaluations arrive from a worker thread; piped,
 * or with --json / --csv, it prints the same rows as a plain table, JSON or CSV and exits 0.
 */
import type { CommandModule } from 'yargs';
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { readPlanSpecs, type PlanSpec } from '../io/plan-file.js';
import type { EngineName } from '../run/evaluate.js';
import { UserError } from '../errors.js';
import type { ComparePlan } from '../report/compare.js';
import { compareCsv, compareJson, renderCompareTable } from '../report/compare-plain.js';
import type { CompareAppProps } from '../ui/compare-app.js';
import { runRequest, type CompareRequest, type CompareResponse, type SearchPlan } from './compare-eval.js';
import { runSearch, searchRowName, type SearchRequest } from './compare-search.js';
import { startSiblingWorker } from '../run/worker-boot.js';
import { importModule } from '../io/import-module.js';
import { EVALUATE_FAILURE_TRIALS } from './evaluate.js';
import { searchProgress } from './search.js';
import { reportError, setsOption } from './common.js';

interface Args {
  plans: string[];
  set?: string[];
  vary?: string[];
  search?: boolean;
  'search-top': number;
  'search-scenario'?: string[];
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
      .option('search', { type: 'boolean', describe: 'add the best plans of `clusterplan search` (objective time, each scenario’s own GPUs) of every scenario given' })
      .option('search-top', { type: 'number', default: 3, describe: 'plans the search adds per scenario (K)' })
      .option('search-scenario', { type: 'string', array: true, describe: 'search only this scenario or plan file (repeatable; implies --search)' })
      .option('json', { type: 'boolean', describe: 'print JSON instead of the table' })
      .option('csv', { type: 'boolean', describe: 'print CSV instead of the table' })
      .conflicts('json', 'csv')
      .option('trials', { type: 'number', default: EVALUATE_FAILURE_TRIALS, describe: 'failure Monte Carlo trials per plan (as evaluate)' })
      .option('engine', { choices: ['des', 'analytic'] as const, describe: 'step engine (default: each scenario’s, des)' }) as never,
  handler: async (args) => {
    try {
      if (!(Number.isInteger(args.trials) && args.trials >= 1 && args.trials <= 100_000)) throw new UserError(`must be a whole number from 1 to 100,000, got ${args.trials}`, undefined, '--trials');
      const top = args['search-top'];
      if (!(Number.isInteger(top) && top >= 1 && top <= 100)) throw new UserError(`must be a whole number from 1 to 100, got ${top}`, undefined, '--search-top');
      if (args.plans.length === 0) throw new UserError('name at least one scenario or plan file, e.g. clusterplan compare scenarios/llama3-405b.yaml scenarios/llama3-405b-8k-gpus.yaml', undefined, 'plans');
      const sets = setsOption(args.set);
      // Each file is read once (the search scenario is usually one of the plans): before the first frame, every parse counts.
      const specs = new Map<string, PlanSpec[]>();
      const read = (f: string) => specs.get(f) ?? (specs.set(f, readPlanSpecs(f)), specs.get(f)!);
      const { plans: pending, requests } = planRequests(args.plans, sets, parseVary(setsOption(args.vary)), args, read);
      const only = setsOption(args['search-scenario']);
      const searches = args.search || only.length ? searchRequests(only.length ? only : args.plans, sets, top, pending.length, read) : { plans: [], requests: [] };
      const interactive = !args.json && !args.csv && process.stdout.isTTY === true && process.stdin.isTTY === true;
      if (interactive) {
        await runInteractive([...pending, ...searches.plans], requests, searches.requests, args);
        return;
      }
      // Here and now, in order; a file that does not load throws (exit 2).
      const evaluateAll = (rows: ComparePlan[], reqs: CompareRequest[]) =>
        rows.map((p, i) => {
          let plan = p;
          runRequest(reqs[i], (r) => (plan = applyResponse(plan, r)));
          return plan;
        });
      const plans = evaluateAll(pending, requests);
      let nextId = pending.length + searches.plans.length;
      for (const [k, req] of searches.requests.entries()) {
        const bar = searchProgress();
        let found: ReturnType<typeof runSearch> | undefined;
        let failed: string | undefined;
        try {
          found = runSearch(req, bar?.update);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          failed = e.format();
        } finally {
          bar?.clear();
        }
        const rows = searchRows(searches.plans[k], req, found, failed, nextId, args);
        nextId += rows.plans.length;
        plans.push(...evaluateAll(rows.plans, rows.requests));
      }
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
export function planRequests(files: string[], sets: string[], varies: Vary[], options: { engine?: EngineName; trials: number }, read: (file: string) => PlanSpec[] = readPlanSpecs): { plans: ComparePlan[]; requests: CompareRequest[] } {
  const specs: PlanSpec[] = files.flatMap((f) => read(f));
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
  if (r.type === 'search' || r.type === 'search-progress') return p;
  if (r.type === 'step') return { ...p, evaluation: r.evaluation, step: r.step };
  if (r.type === 'error') return { ...p, error: r.user ? r.message : `internal error: ${r.message.split('\n')[0]}`, failures: 'none', evaluation: undefined, step: undefined };
  if (!p.evaluation) return p;
  const evaluation = { ...p.evaluation, notes: r.note ? [...p.evaluation.notes, r.note] : p.evaluation.notes, ...(r.failures ? { failures: r.failures } : {}) };
  return { ...p, evaluation, failures: r.failures ? 'done' : 'none' };
}

/**
 * The scenarios to search, one per distinct file and overrides (a plan file's overrides and --set;
 * not --vary, the search chooses the layout itself), each with a row that stands for its plans
 * until the search answers.
 */
export function searchRequests(files: string[], sets: string[], top: number, firstId: number, read: (file: string) => PlanSpec[] = readPlanSpecs): { plans: ComparePlan[]; requests: SearchRequest[] } {
  const seen = new Set<string>();
  const specs = files.flatMap((f) => read(f)).filter((s) => {
    const key = JSON.stringify([s.scenarioFile, ...s.sets, ...sets]);
    return !seen.has(key) && (seen.add(key), true);
  });
  const plans: ComparePlan[] = [];
  const requests: SearchRequest[] = [];
  for (const spec of specs) {
    const id = firstId + plans.length;
    // With several scenarios searched, each row names its scenario.
    plans.push({ id, name: specs.length > 1 ? `${spec.name} search` : 'search', source: spec.source, sets: [...spec.sets, ...sets], failures: 'none', pending: 'searching…' });
    requests.push({ type: 'search', id, file: spec.scenarioFile, sets: [...spec.sets, ...sets], top });
  }
  return { plans, requests };
}

/**
 * The rows a search answered with (ids from `firstId`) and the requests that evaluate them, as
 * overrides of the searched scenario; when it found nothing (or failed), its own row says why.
 */
export function searchRows(
  row: ComparePlan,
  req: SearchRequest,
  found: { plans: SearchPlan[]; notes: string[]; scenarioGpus: number } | undefined,
  failed: string | undefined,
  firstId: number,
  options: { engine?: EngineName; trials: number },
): { plans: ComparePlan[]; requests: CompareRequest[] } {
  if (!found || found.plans.length === 0) {
    return { plans: [{ ...row, pending: undefined, error: failed ?? `search: ${found?.notes.join('; ') || 'no plan found'}` }], requests: [] };
  }
  const prefix = row.name === 'search' ? undefined : row.name.slice(0, -' search'.length);
  const plans: ComparePlan[] = [];
  const requests: CompareRequest[] = [];
  for (const sp of found.plans) {
    const id = firstId + plans.length;
    const sets = [...req.sets, ...sp.sets];
    plans.push({ id, name: searchRowName(prefix, sp, found.scenarioGpus), source: row.source, sets, failures: 'pending', search: { rank: sp.rank, scenario: req.file } });
    requests.push({ id, file: req.file, sets, rederiveDp: false, varied: true, engine: options.engine, trials: options.trials, expect: sp.expect });
  }
  return { plans, requests };
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
  return (await importModule(new URL(entry, here).href)) as typeof import('../ui/compare-app.js');
}

/**
 * The Ink screen: renders at once with pending rows, then re-renders as each worker answer
 * arrives. Evaluations go to a small pool of workers; searches to a worker of their own (so the
 * given plans fill in meanwhile), whose plans then join the evaluation queue.
 */
async function runInteractive(pending: ComparePlan[], requests: CompareRequest[], searches: SearchRequest[], options: { engine?: EngineName; trials: number }): Promise<void> {
  let plans = pending;
  const queue = [...requests];
  const searchQueue = [...searches];
  let nextId = pending.length;
  const workers: Worker[] = [];
  const idle = new Set<() => void>();
  const searchText = new Map<number, string>();
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
    const rows = plans.filter((p) => !p.pending);
    const total = rows.length;
    const steps = rows.filter((p) => p.evaluation || p.error).length;
    const mc = rows.filter((p) => p.failures !== 'pending').length;
    const searching = plans.filter((p) => p.pending).map((p) => `${p.name}: ${searchText.get(p.id) ?? 'queued'}`);
    if (steps + mc === 2 * total && searching.length === 0) return null;
    return { done: steps, total, label: [`evaluated ${steps}/${total} plans · Monte Carlo ${mc}/${total}`, ...searching].join(' · ') };
  };
  function props(): CompareAppProps {
    const n = plans.filter((p) => !p.pending).length;
    return { title: `clusterplan compare · ${n} plan${n === 1 ? '' : 's'}`, plans, progress: progress(), defaultExportPath, onExport };
  }
  const onSearch = (r: Extract<CompareResponse, { type: 'search' | 'error' }>) => {
    const row = plans.find((p) => p.id === r.id)!;
    const req = searches.find((s) => s.id === r.id)!;
    const found = r.type === 'search' ? r : undefined;
    const failed = r.type === 'error' ? (r.user ? r.message : `internal error: ${r.message.split('\n')[0]}`) : undefined;
    const rows = searchRows(row, req, found, failed, nextId, options);
    nextId += rows.plans.length;
    const at = plans.indexOf(row);
    plans = [...plans.slice(0, at), ...rows.plans, ...plans.slice(at + 1)];
    queue.push(...rows.requests);
    for (const wake of [...idle]) wake();
  };
  // The first frame comes before the workers start: on a busy machine they would compete with it
  // for the CPU, and their answers replace the pending rows a moment later.
  const startWorker = (searcher: boolean) => {
    const w = startSiblingWorker(import.meta.url, 'compare-worker', 'cli');
    let current: number | undefined;
    const feed = () => {
      // The search worker searches first; the others evaluate first, then help with the searches.
      const next = searcher ? (searchQueue.shift() ?? queue.shift()) : (queue.shift() ?? searchQueue.shift());
      current = next?.id;
      if (next?.type === 'search') {
        searchText.set(next.id, 'starting');
        refresh();
      }
      if (next) {
        idle.delete(feed);
        w.postMessage(next);
      } else idle.add(feed);
    };
    w.on('message', (r: CompareResponse) => {
      const isSearch = searches.some((s) => s.id === r.id);
      if (r.type === 'error' && r.fatal) {
        fatal ??= r.message;
        app?.exit();
        return;
      }
      if (r.type === 'search-progress') searchText.set(r.id, r.label);
      else if (isSearch && (r.type === 'search' || r.type === 'error')) {
        onSearch(r);
        feed();
      } else {
        plans = plans.map((p) => (p.id === r.id ? applyResponse(p, r) : p));
        if (r.type !== 'step') feed();
      }
      refresh();
    });
    w.on('error', (e) => {
      if (current !== undefined) {
        const id = current;
        if (searches.some((s) => s.id === id)) onSearch({ id, type: 'error', message: e.message, user: false });
        else plans = plans.map((p) => (p.id === id ? applyResponse(p, { id, type: 'error', message: e.message, user: false }) : p));
      }
      refresh();
    });
    workers.push(w);
    feed();
  };
  try {
    const { renderCompare } = await loadUi();
    app = renderCompare(props());
    if (searchQueue.length) startWorker(true);
    for (let i = 0; i < size; i++) startWorker(false);
    await app.waitUntilExit();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // A file or --set that does not load is the user's error, as in every command: one line, exit 2.
  if (fatal !== undefined) reportError(new UserError(fatal));
}
