/**
 * The Monte Carlo of a whole programme (programme-engine.ts runs one trial): planning each stage's
 * model as a run of its own would be planned (interval, costs, spare pool), deciding where a stage
 * boundary relaunches the job and where fault arrivals carry over, refusing up front a Monte Carlo
 * whose expected events over all stages are too many, and running the trials in this thread or
 * over worker threads (the same rows either way).
 */
import type { Seed } from '../sim/index.js';
import { invariant } from '../errors.js';
import type { StageKind } from '../schema/scenario.js';
import type { RunInputs } from './inputs.js';
import { planRun, modelAt, RunTooLarge, MAX_EXPECTED_EVENTS } from './plan-run.js';
import { summaryContext, type SummaryContext } from './summary.js';
import type { ModelComponent } from './run-model.js';
import { runProgrammeRange, type ProgrammeModel, type ProgrammeStageModel } from './programme-engine.js';
import { TrialPool } from './parallel.js';
import { formatInt } from '../units/format.js';

/** One stage as the programme's Monte Carlo needs it. */
export interface ProgrammeStageRun {
  index: number;
  name: string;
  kind: StageKind;
  /** The failure engine's inputs (absent for a stage of fixed duration: generate). */
  inputs?: RunInputs;
  /** A stage without inputs: its wall-clock seconds (its ideal time). */
  fixedSeconds?: number;
  gpus: number;
  gpusPerNode: number;
  spareNodes: number;
  pricePerGpuHour: number | null;
  spareBilling: 'held' | 'rented';
  /** Kind, GPU count and parallel degrees: a stage whose key differs from the one before relaunches. */
  layoutKey: string;
}

export interface ProgrammeOptions {
  trials?: number;
  seed?: Seed;
  /** Work between checkpoints for every stage, overriding the stages' own. */
  checkpointIntervalSeconds?: number;
}

/** The programme's Monte Carlo, planned. */
export interface ProgrammePlan {
  stages: ProgrammeStageRun[];
  model: ProgrammeModel;
  /** Each stage's summary context (null: a fixed stage). */
  contexts: (SummaryContext | null)[];
  trials: number;
  seed: Seed;
  expectedEvents: number;
}

/** Same fault processes: the same components at the same rates and shapes (the same cluster size and profile). */
function sameProcesses(a: ModelComponent[], b: ModelComponent[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i].name && c.ratePerSecond === b[i].ratePerSecond && c.shape === b[i].shape && c.planned === b[i].planned);
}

/** Plans every stage (each as its own run would be planned) and the boundaries between them. */
export function planProgramme(stages: ProgrammeStageRun[], options: ProgrammeOptions = {}): ProgrammePlan {
  invariant(stages.length > 0, 'a programme has at least one stage');
  const trials = options.trials ?? 1000;
  const seed = options.seed ?? 1;
  let expectedEvents = 0;
  let perTrialDays = 0;
  const contexts: (SummaryContext | null)[] = [];
  const models: ProgrammeStageModel[] = [];
  // The blocking save a relaunch starts with: the stage before's (none after a generate stage), as programme-engine.ts runs it.
  let saveSeconds = 0;
  stages.forEach((s, k) => {
    const relaunch = k > 0 && s.layoutKey !== stages[k - 1].layoutKey;
    if (!s.inputs) {
      invariant(s.fixedSeconds !== undefined && s.fixedSeconds >= 0, `stage ${s.name}: a stage without failure inputs needs its fixed duration`);
      contexts.push(null);
      models.push({ name: s.name, fixedSeconds: s.fixedSeconds, relaunch, carryArrivals: false });
      perTrialDays += s.fixedSeconds / 86400;
      saveSeconds = 0;
      return;
    }
    const plan = planRun(s.inputs, { trials, seed, checkpointIntervalSeconds: options.checkpointIntervalSeconds });
    const model = modelAt(plan, plan.intervalSteps);
    const before = k > 0 ? models[k - 1].model : undefined;
    expectedEvents += plan.expectedEvents;
    perTrialDays += plan.base.workSeconds / 86400;
    const ctx = summaryContext(plan, model, plan.intervalSteps, null);
    contexts.push(relaunch ? { ...ctx, relaunchSeconds: saveSeconds + model.restartSeconds } : ctx);
    saveSeconds = model.stopCheckpointSeconds;
    models.push({ name: s.name, model, relaunch, carryArrivals: before !== undefined && sameProcesses(before.components, model.components) });
  });
  if (expectedEvents > MAX_EXPECTED_EVENTS) {
    const largest = (MAX_EXPECTED_EVENTS / expectedEvents) * trials;
    throw new RunTooLarge(
      `the programme's Monte Carlo would simulate about ${expectedEvents.toExponential(1)} events over its ${stages.length} stages (${formatInt(trials)} trials of about ${Math.round(perTrialDays)} days of work each); the limit is ${MAX_EXPECTED_EVENTS.toExponential(0)}: at most ${formatInt(Math.max(1, Math.floor(largest)))} trials would fit`,
      'stages',
      (MAX_EXPECTED_EVENTS / expectedEvents) * perTrialDays * 86400,
    );
  }
  return { stages, model: { stages: models }, contexts, trials, seed, expectedEvents };
}

/** The programme's trial rows (trial order), in this thread or over `workers` threads: the same rows for any count. */
export async function simulateProgrammeParallel(plan: ProgrammePlan, workers = 1, onDone?: (trials: number) => void): Promise<Float64Array> {
  if (workers === 1) return simulateProgramme(plan, onDone);
  const pool = new TrialPool(workers);
  try {
    return await pool.run(plan.model, plan.seed, 0, plan.trials, onDone);
  } finally {
    await pool.close();
  }
}

/** The programme's trial rows (trial order), in this thread, in chunks so progress can be reported. */
export function simulateProgramme(plan: ProgrammePlan, onDone?: (trials: number) => void): Float64Array {
  const chunk = 100;
  const parts: Float64Array[] = [];
  let length = 0;
  for (let s = 0; s < plan.trials; s += chunk) {
    const e = Math.min(plan.trials, s + chunk);
    const rows = runProgrammeRange(plan.model, plan.seed, s, e);
    parts.push(rows);
    length += rows.length;
    onDone?.(e - s);
  }
  const out = new Float64Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
