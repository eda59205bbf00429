/** `clusterplan size <scenario>`: the smallest cluster for a deadline, or the fastest within a budget, with the curve of days and cost against GPUs. */
import type { CommandModule } from 'yargs';
import { loadScenario } from '../io/load.js';
import type { Scenario } from '../plan/resolve.js';
import { sizeCluster, type Confidence, type SizeResult } from '../search/size.js';
import { parseQuantity } from '../units/quantity.js';
import { UserError } from '../errors.js';
import { formatCount, formatInt, formatWhole } from '../units/format.js';
import { printJson, reportError, setsOption } from './common.js';
import { MAX_GPUS, studyOptions, studyTrials, parseGlobalBatches, GLOBAL_BATCH_DESCRIBE } from './options.js';

/** The goal flags `size` and `scaling --plan` share. */
export interface SizeGoalArgs {
  deadline?: string;
  budget?: string;
  'max-gpus'?: number;
  'min-gpus'?: number;
  'global-batch'?: string;
  confidence: Confidence;
  trials: number;
}

interface Args extends SizeGoalArgs {
  scenario: string;
  json?: boolean;
  set?: string[];
}

/** Reads a deadline ("60d", "8 weeks") as seconds. */
export function parseDeadline(value: string): number {
  const r = parseQuantity(value, 'seconds');
  if (!r.ok) throw new UserError(r.reason, undefined, '--deadline');
  if (!(r.value > 0 && Number.isFinite(r.value))) throw new UserError(`must be a positive duration, got "${value}"`, undefined, '--deadline');
  return r.value;
}

/** Reads a budget in US dollars ("50M$", "$50M", "5e7", "50M USD"). */
export function parseBudget(value: string): number {
  const r = parseQuantity(String(value).replace(/\$|usd/gi, '').trim(), 'count');
  if (!r.ok || !(r.value > 0 && Number.isFinite(r.value))) throw new UserError(`expects a positive amount of US dollars like 50M$, got "${value}"`, undefined, '--budget');
  return r.value;
}

export interface SizeGoal {
  deadlineSeconds?: number;
  budgetUsd?: number;
  maxGpus: number;
  minGpus?: number;
  confidence: Confidence;
  trials: number;
  globalBatches?: number[];
}

/** Checks and reads the goal flags shared by `size` and `scaling --plan`. */
export function sizeGoal(sc: Scenario, args: SizeGoalArgs): SizeGoal {
  if ((args.deadline === undefined) === (args.budget === undefined)) throw new UserError('give exactly one of --deadline (e.g. 60d) or --budget (e.g. 50M$)', undefined, '--deadline');
  const maxGpus = args['max-gpus'] ?? 4 * sc.cluster.gpus;
  if (!Number.isInteger(maxGpus) || maxGpus < sc.node.gpusPerNode || maxGpus > MAX_GPUS) throw new UserError(`must be a whole number from one node (${sc.node.gpusPerNode}) to ${formatInt(MAX_GPUS)}, got ${maxGpus}`, undefined, '--max-gpus');
  const minGpus = args['min-gpus'];
  if (minGpus !== undefined && (!Number.isInteger(minGpus) || minGpus < 1 || minGpus > maxGpus)) throw new UserError(`must be a whole number from 1 to --max-gpus, got ${minGpus}`, undefined, '--min-gpus');
  const trials = studyTrials(args.trials);
  return {
    deadlineSeconds: args.deadline !== undefined ? parseDeadline(args.deadline) : undefined,
    budgetUsd: args.budget !== undefined ? parseBudget(args.budget) : undefined,
    maxGpus,
    minGpus,
    confidence: args.confidence,
    trials,
    ...(args['global-batch'] !== undefined ? { globalBatches: parseGlobalBatches(args['global-batch']) } : {}),
  };
}

export const sizeCommand: CommandModule<object, Args> = {
  command: 'size <scenario>',
  describe: 'Smallest cluster that trains the token budget by a deadline (or the fastest within a budget), with failures counted',
  builder: (y) =>
    studyOptions(y, 'scenario file (YAML or JSON): model, hardware, token budget', { default: 50, describe: 'Monte Carlo trials per cluster size' })
      .option('deadline', { type: 'string', describe: 'wall-clock deadline, e.g. 60d' })
      .option('budget', { type: 'string', describe: 'budget in US dollars, e.g. 50M$' })
      .option('max-gpus', { type: 'number', describe: 'largest cluster to consider (default 4 × the scenario’s)' })
      .option('min-gpus', { type: 'number', describe: 'smallest cluster on the curve (default 1/16 of the scenario’s, at least a node)' })
      .option('global-batch', { type: 'string', describe: `${GLOBAL_BATCH_DESCRIBE}; default: scaled with the cluster` })
      .option('confidence', { choices: ['mean', 'p50', 'p90', 'p99'] as const, default: 'p90' as const, describe: 'days with failures at this confidence' }) as never,
  handler: (args) => {
    try {
      const sc = loadScenario(args.scenario, { sets: setsOption(args.set) });
      const goal = sizeGoal(sc, args);
      const r = sizeWithProgress(sc, goal);
      if (args.json) printJson(r);
      else process.stdout.write(renderSize(r));
    } catch (e) {
      reportError(e);
    }
  },
};

/** Runs the size study with a progress line on a TTY. */
export function sizeWithProgress(sc: Scenario, goal: SizeGoal): SizeResult {
  const tty = process.stderr.isTTY;
  const r = sizeCluster(sc, {
    ...goal,
    onProgress: tty ? (p) => { if (!p.search) process.stderr.write(`\r\x1b[2Ksizing: ${formatInt(p.gpus)} GPUs (${p.size + 1}/${p.sizes})`); } : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[2K');
  return r;
}

const int = formatWhole;

/** The size report: the answer, then the curve as a terminal plot (days on a log scale) with cost. */
export function renderSize(r: SizeResult): string {
  const out: string[] = [];
  const g = r.goal;
  const goal = g.deadlineDays !== null ? `deadline ${g.deadlineDays.toFixed(1)} days` : `budget $${formatCount(g.budgetUsd ?? 0, 2)}`;
  out.push(`clusterplan size · ${r.scenario} · ${goal} at ${g.confidence} · up to ${int(g.maxGpus)} GPUs`);
  out.push('');
  if (r.gpus !== null && r.plan && r.results) {
    const p = r.plan;
    const s = r.results;
    out.push(`Answer   ${int(r.gpus)} GPUs: TP${p.tp} CP${p.cp} PP${p.pp}${p.vpp > 1 ? `×${p.vpp}` : ''} DP${p.dp}${p.ep > 1 ? ` EP${p.ep}` : ''} ZeRO-${p.zeroStage} mb${p.microBatch} recompute ${p.recompute} ${p.precision}${p.globalBatch !== undefined ? ` · global batch ${int(p.globalBatch)}` : ''}`);
    out.push(`         step ${s.stepSeconds.toFixed(2)} s · MFU ${(100 * s.mfu).toFixed(1)}% · ideal ${s.idealDays.toFixed(1)} d · expected ${s.expectedDays?.toFixed(1) ?? '–'} d · p90 ${s.p90Days?.toFixed(1) ?? '–'} d · ${formatCount(s.gpuHours, 2)} GPU-h · ${s.costUsd === null ? 'price not set' : `$${formatCount(s.costUsd, 2)}`}`);
  } else out.push('Answer   none in range');
  out.push('');
  const pts = r.curve.filter((c) => c.days !== null);
  const lo = Math.min(...pts.map((c) => c.days!));
  const hi = Math.max(...pts.map((c) => c.days!));
  const width = 40;
  const bar = (d: number) => (hi > lo ? Math.max(1, Math.round((width * Math.log(d / lo + 1e-12)) / Math.log(hi / lo) + 1)) : 1);
  out.push(`Curve    days at ${g.confidence} (bar: log scale, ${lo.toFixed(1)}–${hi.toFixed(1)} d) and cost with spares and failures`);
  for (const c of r.curve) {
    const mark = c.gpus === r.gpus ? ' ◀' : '';
    const failures = c.expectedDays === null && c.days !== null ? ' (no failures: goal out of reach)' : '';
    out.push(`  ${int(c.gpus).padStart(9)} GPUs │${c.days === null ? ' nothing fits'.padEnd(width) : '█'.repeat(Math.min(width, bar(c.days))).padEnd(width)} ${c.days === null ? '' : `${c.days.toFixed(1).padStart(8)} d`}  ${c.costUsd === null ? '' : `$${formatCount(c.costUsd, 2)}`.padStart(8)}${mark}${failures}`);
  }
  out.push('');
  out.push(`Scaling  spare nodes ${r.scaling.spareNodes}; global batch ${r.scaling.globalBatch}`);
  for (const n of r.notes) out.push(`Note     ${n}`);
  return out.join('\n') + '\n';
}
