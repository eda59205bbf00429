/** `clusterplan failures <scenario>`: Monte Carlo failure budget of a run (days, interruptions, lost GPU-hours, goodput). */
import type { CommandModule } from 'yargs';
import { loadScenarioWithSources } from '../io/load.js';
import type { ResolvedStage } from '../plan/programme.js';
import type { Seed } from '../sim/index.js';
import { evaluateStage, programmeStageRuns, programmeResizeNote } from '../run/programme.js';
import { planProgramme, simulateProgrammeParallel } from '../run/programme-mc.js';
import { summarizeProgramme } from '../run/programme-summary.js';
import { renderProgrammeFailures } from '../report/programme-failures.js';
import { evaluate } from '../run/evaluate.js';
import { runInputsFromScenario } from '../run/inputs.js';
import { MAX_TRIALS, RunTooLarge, type Progress } from '../run/plan-run.js';
import { summarize } from '../run/summary.js';
import { compareRecovery } from '../run/monte-carlo.js';
import { failureShard, type ShardSpec } from '../run/shard.js';
import { MAX_WORKERS, simulateTrialsParallel } from '../run/parallel.js';
import { renderFailures, progressLine } from '../report/failures.js';
import { parseQuantity } from '../units/quantity.js';
import { UserError } from '../errors.js';
import { printJson, reportError } from './common.js';
import { scenarioOptions, setsOption, gpusOption, seedOption } from './options.js';
import { formatInt } from '../units/format.js';

interface Args {
  scenario: string;
  trials: number;
  seed: string;
  workers: number;
  'checkpoint-interval'?: string;
  'optimize-checkpoint'?: boolean;
  horizon?: string;
  json?: boolean;
  set?: string[];
  gpus?: string;
  shard?: string;
  'compare-recovery'?: boolean;
}

/** Reads a duration flag ("2h", "54d"; a bare number has no unit and is refused) as seconds. */
function duration(value: string, flag: string): number {
  const r = parseQuantity(value, 'seconds');
  if (!r.ok) throw new UserError(r.reason, undefined, flag);
  if (!(r.value > 0 && Number.isFinite(r.value))) throw new UserError(`must be a positive duration, got "${value}"`, undefined, flag);
  return r.value;
}

/** A whole number from `min` to `max`, or a user error naming the flag. */
function wholeNumber(value: number, min: number, max: number, flag: string, what: string): number {
  if (!(Number.isInteger(value) && value >= min && value <= max)) throw new UserError(`${what} must be a whole number from ${min} to ${formatInt(max)}, got ${value}`, undefined, flag);
  return value;
}

/** Reads `--shard i/n`: shard i (from 0) of n. */
function shardOption(value: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) throw new UserError(`expected i/n (shard i of n, i from 0), got "${value}"`, undefined, '--shard');
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (!(count >= 1 && count <= MAX_TRIALS && index < count)) throw new UserError(`the shard index must be from 0 to n − 1 (n from 1), got "${value}"`, undefined, '--shard');
  return { index, count };
}

export const failuresCommand: CommandModule<object, Args> = {
  command: 'failures <scenario>',
  describe: 'Monte Carlo failure budget: days to finish (or a fixed window), interruptions, lost GPU-hours, goodput, checkpoint interval',
  builder: (y) =>
    scenarioOptions(y, 'cluster.spareNodes=16')
      .option('trials', { type: 'number', default: 1000, describe: 'Monte Carlo trials' })
      .option('seed', { type: 'string', default: '1', describe: 'seed, a whole number (07 is 7); trial t uses the stream seed/t' })
      .option('workers', { type: 'number', default: 1, describe: 'worker threads (results are identical for any count)' })
      .option('checkpoint-interval', { type: 'string', describe: 'work between checkpoints, with its unit, e.g. "15 min" or "2h"' })
      .option('optimize-checkpoint', { type: 'boolean', describe: 'search the interval that maximises goodput (shown next to Young/Daly)' })
      .conflicts('checkpoint-interval', 'optimize-checkpoint')
      .option('horizon', { type: 'string', describe: 'simulate a fixed wall-clock window instead of the token budget, with its unit, e.g. 54d or "12 h"' })
      .option('json', { type: 'boolean', describe: 'print JSON instead of the report' })
      .option('compare-recovery', { type: 'boolean', describe: 'also run every recovery strategy (checkpoint-restart, hot-spare, in-memory, elastic) on the same trials and compare them (JSON: recoveryStrategies)' })
      .conflicts('compare-recovery', 'shard')
      .option('shard', { type: 'string', describe: 'run only block i (from 0) of n of the trials and print a JSON shard document for `clusterplan merge`, e.g. 0/4' }) as never,
  handler: async (args) => {
    try {
      const interval = args['checkpoint-interval'] !== undefined ? duration(args['checkpoint-interval'], '--checkpoint-interval') : undefined;
      const horizon = args.horizon !== undefined ? duration(args.horizon, '--horizon') : undefined;
      const trials = wholeNumber(args.trials, 1, MAX_TRIALS, '--trials', 'trials');
      const workers = wholeNumber(args.workers, 1, MAX_WORKERS, '--workers', 'workers');
      const shard = args.shard !== undefined ? shardOption(args.shard) : undefined;
      const seed = seedOption(args.seed);
      const { scenario: sc, stages } = loadScenarioWithSources(args.scenario, { sets: setsOption(args.set), gpus: gpusOption(args.gpus) });
      // What resolving the scenario noted (--gpus rescaling, a deprecated field) heads the notes, as in evaluate.
      const scenarioNotes = [...(sc.notes ?? []), ...(stages && args.gpus !== undefined ? [programmeResizeNote(sc, stages)] : [])];
      if (stages) return await programmeFailures(sc.name, stages, args, { trials, seed, workers, interval, notes: scenarioNotes });
      const ev = evaluate(sc);
      const inputs = runInputsFromScenario(sc, ev);
      const bar = process.stderr.isTTY ? progressBar() : undefined;
      const notes = [...scenarioNotes, ...(ev.feasible ? [] : [`the plan does not fit in memory (${ev.reasons.join('; ')}); failures simulated at its step time anyway`])];
      const simOptions = {
        trials,
        seed,
        workers,
        checkpointIntervalSeconds: interval,
        optimize: args['optimize-checkpoint'],
        horizonSeconds: horizon,
        shard,
        notes,
      };
      const result = await simulateTrialsParallel(inputs, { ...simOptions, onProgress: bar?.update }).catch((e: unknown) => {
        throw e instanceof RunTooLarge ? tooLarge(e, horizon !== undefined) : e;
      });
      bar?.clear();
      if (shard) return printJson(failureShard(result, shard, { scenario: sc.name, gpus: inputs.gpus }));
      const summary = summarize(result.context, result.rows);
      const strategies = args['compare-recovery'] ? compareRecovery(inputs, simOptions, result) : undefined;
      if (args.json) printJson(strategies ? { ...summary, recoveryStrategies: strategies } : summary);
      else process.stdout.write(renderFailures(summary, sc.name, inputs.gpus, strategies));
    } catch (e) {
      reportError(e);
    }
  },
};

/**
 * `failures` on a programme: the Monte Carlo runs every stage in order on one failure timeline.
 * The options that reshape a single run (a horizon, the interval search, shards, the recovery
 * comparison) are refused for a programme, naming the flag.
 */
async function programmeFailures(name: string, stages: ResolvedStage[], args: Args, o: { trials: number; seed: Seed; workers: number; interval?: number; notes: string[] }): Promise<void> {
  const single: [keyof Args, string][] = [['horizon', '--horizon'], ['optimize-checkpoint', '--optimize-checkpoint'], ['shard', '--shard'], ['compare-recovery', '--compare-recovery']];
  for (const [key, flag] of single) if (args[key] !== undefined && args[key] !== false) throw new UserError('not available for a programme (a scenario with stages): it applies to one steady-state run', undefined, flag, 'run it on a scenario without stages, or drop the flag');
  const cache = new Map();
  const results = stages.map((st) => ({ st, ev: evaluateStage(st, { cache }) }));
  let plan;
  try {
    plan = planProgramme(programmeStageRuns(results), { trials: o.trials, seed: o.seed, checkpointIntervalSeconds: o.interval });
  } catch (e) {
    if (e instanceof RunTooLarge) throw new UserError(e.message, undefined, '--trials', 'use fewer --trials or fewer tokens per stage');
    throw e;
  }
  const bar = process.stderr.isTTY ? progressBar() : undefined;
  let done = 0;
  const rows = await simulateProgrammeParallel(plan, o.workers, (k) => bar?.update({ phase: 'simulate', done: (done += k), total: o.trials }));
  bar?.clear();
  const summary = summarizeProgramme(plan, rows);
  summary.notes.unshift(...o.notes);
  if (args.json) printJson({ programme: name, ...summary });
  else process.stdout.write(renderProgrammeFailures(summary, name));
}

/** The core's refusal, with the flags that change it. */
function tooLarge(e: RunTooLarge, horizon: boolean): UserError {
  const days = e.largestSpanSeconds / 86400;
  const fit = days >= 1 ? `${Math.floor(days)}d` : days >= 1 / 24 ? `${Math.floor(days * 24)}h` : `${Math.max(1, Math.floor(days * 1440))}min`;
  return new UserError(e.message, undefined, horizon ? '--horizon' : 'training.totalTokens', `use fewer --trials, a shorter --horizon (e.g. --horizon ${fit}) or a smaller token budget`);
}

/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
function progressBar(): { update: (p: Progress) => void; clear: () => void } {
  let last = 0;
  return {
    update: (p) => {
      const now = performance.now();
      if (now - last < 100 && p.done < p.total) return;
      last = now;
      process.stderr.write(`\r${progressLine(p)}`);
    },
    clear: () => process.stderr.write('\r\x1b[2K'),
  };
}
