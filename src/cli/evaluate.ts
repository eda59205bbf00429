/** `clusterplan evaluate <scenario>`: memory, step, throughput and run totals for one plan. */
import type { CommandModule } from 'yargs';
import { loadScenarioWithSources } from '../io/load.js';
import type { ProfileSource } from '../io/profiles.js';
import type { Scenario } from '../plan/resolve.js';
import { evaluate, evaluateDetailed, type Evaluation } from '../run/evaluate.js';
import { evaluateStage, cachedEvaluate, programmeTotal, programmeStageRuns, programmeResizeNote, type StageEvaluation, type StepCache } from '../run/programme.js';
import { planProgramme, simulateProgramme } from '../run/programme-mc.js';
import { summarizeProgramme, type ProgrammeFailureSummary } from '../run/programme-summary.js';
import type { ResolvedStage } from '../plan/programme.js';
import type { FailureSummary } from '../run/summary.js';
import { failureSummaryForEvaluate } from '../run/failures.js';
import { renderFailureBrief } from '../report/failures.js';
import { renderPipelineTimeline } from '../report/timeline.js';
import type { DesStepResult } from '../step/des/types.js';
import { renderEvaluation, renderProgramme } from '../report/text.js';
import { withIntervals } from '../validation/intervals.js';
import { loadResidualTable } from '../io/calibration.js';
import { printJson, reportError } from './common.js';
import { scenarioOptions, jsonOption, engineOption, setsOption, gpusOption } from './options.js';
import { UserError } from '../errors.js';

/** Trials of the failure Monte Carlo inside `evaluate` (the `failures` command defaults to 1,000). */
export const EVALUATE_FAILURE_TRIALS = 50;

interface Args {
  scenario: string;
  json?: boolean;
  set?: string[];
  gpus?: string;
  engine?: 'des' | 'analytic';
}

/** One report line naming the file of every profile the scenario names, bundled or local. */
export function renderSources(sources: ProfileSource[]): string {
  if (sources.length === 0) return 'Files    every profile is inline in the scenario';
  const from = (s: ProfileSource & { defaultOf?: string }) => (s.defaultOf ? `, the ${s.defaultOf}` : '');
  return `Files    ${sources.map((s) => `${s.field} ${s.path} (${s.origin}${from(s)})`).join(' · ')}`;
}

/** The node and fabric in effect, by name, and whether each is inline (the Files line names the files of the others). */
export function renderSystem(sc: Scenario, sources: ProfileSource[]): string {
  const where = (field: string) => (sources.some((s) => s.field === field) ? '' : ' (inline)');
  return `System   node ${sc.node.name}${where('cluster.node')} · ${sc.node.gpusPerNode} GPUs per node · fabric ${sc.fabric.name}${where('cluster.fabric')}`;
}

/**
 * MFU above 1 means the plan runs faster than the GPU's stated bf16 peak: the profile's peaks
 * contradict its own efficiency curves (e.g. a bf16 peak far below the fp8 peak). That is an
 * error in the GPU profile, not a result, so it is reported against the profile's file.
 */
function checkUtilisation(mfu: number, hfu: number, gpuName: string, sources: ProfileSource[], scenarioFile: string): void {
  const worst = Math.max(mfu, hfu);
  if (!(worst > 1)) return;
  const source = sources.find((s) => s.field === 'cluster.gpu');
  const which = mfu > 1 ? `MFU ${mfu.toFixed(2)}` : `HFU ${hfu.toFixed(2)}`;
  throw new UserError(
    `the plan would reach ${which}, above 1: the GPU profile "${gpuName}" states a bf16 peak below what its own efficiency and precision peaks deliver`,
    source?.path ?? scenarioFile,
    source ? 'peakFlops.bf16' : 'cluster.gpu.peakFlops.bf16',
    'check the peaks against the datasheet',
  );
}

/** The programme's short failure Monte Carlo, end to end, or a note saying why it is missing. */
function programmeFailures(results: { st: ResolvedStage; ev: StageEvaluation }[], notes: string[]): ProgrammeFailureSummary | null {
  try {
    const plan = planProgramme(programmeStageRuns(results), { trials: EVALUATE_FAILURE_TRIALS, seed: 1 });
    return summarizeProgramme(plan, simulateProgramme(plan));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    notes.push(`failure Monte Carlo skipped: ${e.format()}`);
    return null;
  }
}

/** `evaluate` of a scenario with stages: each stage, then the total; --json adds stages[] and total to the scenario's own keys. */
function evaluateProgramme(sc: Scenario, stages: ResolvedStage[], sources: ProfileSource[], args: Args): void {
  const cache: StepCache = new Map();
  const results = stages.map((st) => {
    const ev = evaluateStage(st, { engine: args.engine, cache });
    checkUtilisation(ev.throughput.mfu, ev.throughput.hfu, st.scenario.gpu.name, sources, args.scenario);
    return { st, ev };
  });
  // --gpus: how the stages follow the new count (the scenario's own note says what moved).
  const notes: string[] = args.gpus !== undefined ? [programmeResizeNote(sc, stages)] : [];
  const mc = programmeFailures(results, notes);
  const rows = results.map(({ ev }, k) => {
    const stage = mc?.stages[k];
    if (stage?.failures) ev.failures = stage.failures;
    return { ev, expectedDays: stage ? stage.days.mean : null };
  });
  const total = programmeTotal(results, mc);
  if (args.json) {
    const base = cachedEvaluate(sc, args.engine, cache);
    printJson({ ...base, notes: [...base.notes, ...notes], profiles: sources, stages: rows.map((r) => ({ ...r.ev, expectedDays: r.expectedDays })), total });
  } else {
    // What each stage's Monte Carlo noticed (an empty spare pool, a closed form that does not apply)
    // is printed as the single-run report prints it; --json has it in stages[].failures.notes.
    const stageNotes = (mc?.stages ?? []).flatMap((st) => (st.failures?.notes ?? []).map((n) => `${st.name}: failures: ${n}`));
    process.stdout.write(renderProgramme(sc.name, rows, total, [...[...(sc.notes ?? []), ...notes, ...stageNotes].map((n) => `Note     ${n}`), renderSystem(sc, sources), renderSources(sources)]));
  }
}

export const evaluateCommand: CommandModule<object, Args> = {
  command: 'evaluate <scenario>',
  describe: 'Evaluate a training plan: memory fit, step time, MFU, run days, energy and cost',
  builder: (y) => engineOption(jsonOption(scenarioOptions(y))) as never,
  handler: (args) => {
    try {
      const { scenario: sc, sources, software, stages } = loadScenarioWithSources(args.scenario, { sets: setsOption(args.set), gpus: gpusOption(args.gpus) });
      if (stages) return evaluateProgramme(sc, stages, sources, args);
      const detailed = evaluateDetailed(sc, { engine: args.engine });
      const step = detailed.step;
      // 80 % intervals from the cross-validated residuals of comparable cases (validation/intervals.ts);
      // a scenario with a setting the model does not represent looks in the not-modelled cases first.
      const ev = withIntervals(detailed.evaluation, loadResidualTable(), sc.gpu.name, software?.name, software?.notModelled);
      checkUtilisation(ev.throughput.mfu, ev.throughput.hfu, sc.gpu.name, sources, args.scenario);
      // A short Monte Carlo of failures and restarts; `clusterplan failures` runs the full one.
      try {
        ev.failures = failureSummaryForEvaluate(sc, ev, { trials: EVALUATE_FAILURE_TRIALS, seed: 1 });
      } catch (e) {
        // The step and memory answers stand on their own; say why the failure budget is missing.
        if (!(e instanceof UserError)) throw e;
        ev.notes.push(`failure Monte Carlo skipped: ${e.format()}`);
      }
      if (args.json) printJson({ ...ev, profiles: sources, software });
      else {
        const extra = [renderSystem(sc, sources), renderSources(sources)];
        if (ev.failures) extra.push(...renderFailureBrief(ev.failures));
        if (step.engine === 'des') extra.push('', 'Pipeline (one row per stage)', renderPipelineTimeline(step as DesStepResult, 100));
        process.stdout.write(renderEvaluation(ev, extra, software));
      }
    } catch (e) {
      reportError(e);
    }
  },
};
