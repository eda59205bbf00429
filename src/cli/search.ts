/** `clusterplan search <scenario>`: the best layouts for a model on a cluster (or a range of cluster sizes). */
import type { CommandModule } from 'yargs';
import { createHash } from 'node:crypto';
import { loadScenario } from '../io/load.js';
import type { Scenario } from '../plan/resolve.js';
import { searchShard, type Objective, type SearchProgress } from '../search/search.js';
import { mergeSearch, type SearchResult, type SearchShardDoc } from '../search/merge.js';
import { clusterSize, gpuGrid, withGlobalBatches, FIX_KEYS, type ClusterSize, type Fixes, type PlanChoice } from '../search/space.js';
import { RecomputeSchema, ScheduleSchema, PrecisionSchema } from '../schema/plan.js';
import { UserError } from '../errors.js';
import { formatCount, formatGiB, formatSeconds, formatPercent as pct, formatInt, formatWhole } from '../units/format.js';
import { textTable } from '../report/table.js';
import { printJson, reportError, setsOption } from './common.js';
import { MAX_GPUS, studyOptions, studyTrials, parseGlobalBatches, GLOBAL_BATCH_DESCRIBE } from './options.js';

interface Args {
  scenario: string;
  gpus?: string;
  'global-batch'?: string;
  top: number;
  objective: Objective;
  fix?: string[];
  json?: boolean;
  csv?: boolean;
  shard?: string;
  trials: number;
  timing: boolean;
  set?: string[];
}

/** Reads `--gpus N` or `--gpus A..B` into cluster sizes (whole nodes on a half-octave grid for a range). */
export function parseGpus(sc: Scenario, value: string | undefined, scaleBatch: boolean): ClusterSize[] {
  if (value === undefined) return [clusterSize(sc, sc.cluster.gpus, scaleBatch)];
  const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(String(value));
  if (!m) throw new UserError(`expects a GPU count or a range like 4096..16384, got "${value}"`, undefined, '--gpus');
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (!(lo >= 1 && hi >= lo && hi <= MAX_GPUS)) throw new UserError(`expects 1 ≤ A ≤ B ≤ ${formatInt(MAX_GPUS)}, got "${value}"`, undefined, '--gpus');
  const grid = m[2] === undefined ? [lo] : gpuGrid(lo, hi, sc.node.gpusPerNode);
  if (grid.length === 0) throw new UserError(`no whole number of ${sc.node.gpusPerNode}-GPU nodes lies in ${value}`, undefined, '--gpus');
  return grid.map((g) => clusterSize(sc, g, scaleBatch));
}

/** Reads `--fix key=value` options (tp=8, pp=16, zero=1, mb=2, recompute=full, schedule=1f1b, precision=fp8, ...). */
export function parseFixes(values: string[]): Fixes {
  const fixes: Record<string, unknown> = {};
  for (const item of values.flatMap((v) => v.split(','))) {
    const eq = item.indexOf('=');
    const key = FIX_KEYS[item.slice(0, eq).trim()];
    const raw = item.slice(eq + 1).trim();
    if (eq <= 0 || !key) throw new UserError(`expects key=value with key one of ${Object.keys(FIX_KEYS).join(', ')}, got "${item}"`, undefined, '--fix');
    const enums: Partial<Record<keyof PlanChoice, readonly string[]>> = { recompute: RecomputeSchema.options, schedule: ScheduleSchema.options, precision: PrecisionSchema.options };
    const allowed = enums[key];
    if (allowed) {
      if (!allowed.includes(raw)) throw new UserError(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`, undefined, '--fix');
      fixes[key] = raw;
    } else {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < (key === 'zeroStage' ? 0 : 1) || n > (key === 'zeroStage' ? 3 : 1e7)) throw new UserError(`${key} must be a whole number${key === 'zeroStage' ? ' from 0 to 3' : ' of at least 1'}, got "${raw}"`, undefined, '--fix');
      fixes[key] = n;
    }
  }
  return fixes as Fixes;
}

/** Reads `--shard i/n`. */
export function parseShard(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1 && count <= 1e6 && index < count)) throw new UserError(`expects i/n with 0 ≤ i < n (e.g. 0/4), got "${value}"`, undefined, '--shard');
  return { index, count };
}

/** Hash of everything that shapes a study's answer, so merge can refuse shards of different studies. */
export function inputsHash(sc: Scenario, options: unknown): string {
  const { file: _f, ...rest } = sc;
  return createHash('sha256').update(JSON.stringify({ scenario: rest, options })).digest('hex').slice(0, 16);
}

/** A one-line progress report on stderr (TTY only), redrawn at most every 100 ms. */
export function searchProgress(): { update: (p: SearchProgress) => void; clear: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return {
    update: (p) => {
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      const tail = p.phase === 'bound' ? `bounding ${int(p.done)}/${int(p.total)}` : p.phase === 'evaluate' ? `evaluating` : `re-ranking ${p.done + 1}/${p.total}`;
      process.stderr.write(`\r\x1b[2Kcandidates ${int(p.phase === 'bound' ? p.done : p.enumerated)} enumerated · ${int(p.pruned)} pruned · ${int(p.evaluated)} evaluated · ${tail}`);
    },
    clear: () => process.stderr.write('\r\x1b[2K'),
  };
}

export const searchCommand: CommandModule<object, Args> = {
  command: 'search <scenario>',
  describe: 'Find the best layouts (TP/CP/PP/DP/EP, ZeRO, micro-batch, recompute, schedule) for a scenario’s model and cluster',
  builder: (y) =>
    studyOptions(y, 'scenario file (YAML or JSON)', { default: 100, describe: 'Monte Carlo trials of the run engine per re-ranked plan' })
      .option('gpus', { type: 'string', describe: 'cluster size, or a range A..B (whole nodes, 2^k and 3·2^(k-1) nodes)' })
      .option('global-batch', { type: 'string', describe: `${GLOBAL_BATCH_DESCRIBE}; default the scenario’s` })
      .option('top', { type: 'number', default: 10, describe: 'plans to report (K)' })
      .option('objective', { choices: ['time', 'cost', 'p90-days'] as const, default: 'time' as const, describe: 'rank by ideal days, cost with failures and spares, or p90 days with failures' })
      .option('fix', { type: 'string', array: true, describe: 'hold a choice fixed: key=value (repeatable), e.g. --fix tp=8 --fix recompute=full' })
      .option('csv', { type: 'boolean', describe: 'print the table as CSV' })
      .conflicts('json', 'csv')
      .option('shard', { type: 'string', describe: 'run shard i of n (i/n) of the candidate space and print a shard document for `clusterplan merge`' })
      .option('timing', { type: 'boolean', default: true, describe: 'report wall-clock seconds (--no-timing prints null, for byte-identical outputs)' }) as never,
  handler: (args) => {
    try {
      const t0 = performance.now();
      const sc = loadScenario(args.scenario, { sets: setsOption(args.set) });
      const top = args.top;
      if (!Number.isInteger(top) || top < 1 || top > 1000) throw new UserError(`must be a whole number from 1 to 1,000, got ${top}`, undefined, '--top');
      const trials = studyTrials(args.trials);
      const batches = args['global-batch'] === undefined ? undefined : parseGlobalBatches(args['global-batch']);
      const gpuSizes = parseGpus(sc, args.gpus, false);
      const sizes = batches ? withGlobalBatches(gpuSizes, batches) : gpuSizes;
      const fixes = parseFixes(setsOption(args.fix));
      const shard = parseShard(args.shard);
      const options = { sizes, fixes, top, objective: args.objective, trials, ...(batches ? { reportGlobalBatch: true } : {}) };
      const bar = searchProgress();
      const body = searchShard(sc, { ...options, shard, onProgress: bar?.update });
      bar?.clear();
      const doc: SearchShardDoc = {
        clusterplanShard: { kind: 'search', index: shard?.index ?? 0, count: shard?.count ?? 1, inputsHash: inputsHash(sc, options) },
        ...body,
        seconds: args.timing ? (performance.now() - t0) / 1000 : null,
      };
      if (shard) {
        printJson(doc);
        return;
      }
      const result = mergeSearch([doc]);
      if (args.json) printJson(result);
      else if (args.csv) process.stdout.write(renderSearchCsv(result));
      else process.stdout.write(renderSearch(result));
    } catch (e) {
      reportError(e);
    }
  },
};

const int = formatWhole;
const f1 = (x: number | null) => (x === null ? '–' : x.toFixed(1));


/** The search report: counts, the top-K table, one `why` line per plan, or the closest misses. */
export function renderSearch(r: SearchResult): string {
  const out: string[] = [];
  const sizes = r.gpus.length === 1 ? `${int(r.gpus[0])} GPUs` : `${int(r.gpus[0])}..${int(r.gpus[r.gpus.length - 1])} GPUs (${r.gpus.length} sizes)`;
  const gb = r.globalBatches;
  const batches = gb === undefined ? '' : ` · global batch ${gb.length === 1 ? int(gb[0]) : `${int(gb[0])}..${int(gb[gb.length - 1])} (${gb.length} batches)`} sequences`;
  out.push(`clusterplan search · ${r.scenario} · ${sizes}${batches} · objective ${r.objective}${r.seconds === null ? '' : ` · ${formatSeconds(r.seconds)}`}`);
  const c = r.candidates;
  out.push(`Candidates ${int(c.enumerated)} enumerated · ${int(c.pruned)} pruned (bound ${int(c.prunedBy.bound)}, memory ${int(c.prunedBy.memory)}, layout ${int(c.prunedBy.layout)}) · ${int(c.evaluated)} evaluated in closed form · best ${r.top.length} re-ranked with the step and run engines`);
  out.push('');
  if (!r.feasible) {
    out.push('no feasible plan: nothing fits in GPU memory. Closest misses:');
    for (const m of r.closestMisses ?? []) out.push(`  ${layoutLabel(m.plan, m.gpus)}  ${formatGiB(m.memoryPerGpuBytes)} of ${formatGiB(m.capacityBytes)}: ${m.lacks}`);
  } else {
    const rows = r.top.map((e) => {
      const p = e.plan;
      const s = e.results;
      return [
        String(e.rank), int(e.gpus), ...(gb ? [int(p.globalBatch ?? e.detail.globalBatchSequences)] : []), String(p.tp), String(p.cp), String(p.pp), String(p.vpp), String(p.dp), String(p.ep), String(p.zeroStage), String(p.microBatch), p.recompute, p.schedule, p.precision,
        s.stepSeconds.toFixed(2), pct(s.mfu), formatGiB(e.detail.memoryHeadroomBytes).replace(' GiB', ''), pct(e.detail.bubbleFraction), f1(s.idealDays), f1(s.expectedDays), f1(s.p90Days), formatCount(s.gpuHours, 2),
        s.costUsd === null ? 'price not set' : `$${formatCount(s.costUsd, 2)}`, int(e.detail.energyMWh),
      ];
    });
    out.push(...textTable(['#', 'GPUs', ...(gb ? ['batch'] : []), 'TP', 'CP', 'PP', 'VPP', 'DP', 'EP', 'ZeRO', 'mb', 'recompute', 'schedule', 'prec', 'step s', 'MFU', 'free GiB', 'bubble', 'ideal d', 'exp d', 'p90 d', 'GPU-h', 'cost', 'MWh'], rows, 0));
    out.push('');
    for (const e of r.top) out.push(`  ${String(e.rank).padStart(2)}  ${e.why}`);
  }
  for (const n of r.notes) out.push(`Note  ${n}`);
  return out.join('\n') + '\n';
}

function layoutLabel(p: PlanChoice, gpus: number): string {
  return `${int(gpus)} GPUs TP${p.tp} CP${p.cp} PP${p.pp}${p.vpp > 1 ? `×${p.vpp}` : ''} DP${p.dp}${p.ep > 1 ? ` EP${p.ep}` : ''} ZeRO-${p.zeroStage} mb${p.microBatch} ${p.recompute}`;
}

const CSV_COLUMNS = ['rank', 'gpus', 'tp', 'cp', 'pp', 'vpp', 'dp', 'ep', 'etp', 'zeroStage', 'microBatch', 'recompute', 'schedule', 'precision', 'stepSeconds', 'mfu', 'idealDays', 'expectedDays', 'p90Days', 'gpuHours', 'costUsd', 'memoryPerGpuBytes', 'why'];

/** The top-K table as CSV (RFC 4180 quoting), one row per plan. */
export function renderSearchCsv(r: SearchResult): string {
  const q = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  // globalBatch (sequences) after precision, only when the study chose the batch (--global-batch).
  const columns = r.globalBatches ? [...CSV_COLUMNS.slice(0, CSV_COLUMNS.indexOf('precision') + 1), 'globalBatch', ...CSV_COLUMNS.slice(CSV_COLUMNS.indexOf('precision') + 1)] : CSV_COLUMNS;
  const rows = r.top.map((e) => {
    const rec: Record<string, unknown> = { rank: e.rank, gpus: e.gpus, ...e.plan, ...e.results, why: e.why };
    return columns.map((k) => q(rec[k])).join(',');
  });
  return [columns.join(','), ...rows].join('\n') + '\n';
}
