/**
 * Evaluating one plan of `clusterplan compare`, in the calling thread (plain output) or in a
 * worker (the interactive screen, so a key press never waits behind a simulation). The step and
 * the failure Monte Carlo come back separately so the table can show the first while the second runs.
 */
import type { Scenario } from '../plan/resolve.js';
import { evaluateDetailed, type EngineName, type Evaluation } from '../run/evaluate.js';
import { failureSummaryForEvaluate, type FailureSummary } from '../run/failures.js';
import type { StepResult } from '../step/result.js';
import type { DesStepResult } from '../step/des/types.js';
import { UserError } from '../errors.js';
import { readDataFile, applyOverrides, parseScenario } from '../io/load.js';

/** The step answer of one plan. */
export function evaluateStep(sc: Scenario, engine?: EngineName): { evaluation: Evaluation; step: StepResult | DesStepResult } {
  return evaluateDetailed(sc, { engine });
}

/** The failure Monte Carlo as `evaluate` runs it (seed 1); a note instead when it cannot run, nothing without a failure profile. */
export function evaluateFailures(sc: Scenario, ev: Evaluation, trials: number): { failures?: FailureSummary; note?: string } {
  try {
    return { failures: failureSummaryForEvaluate(sc, ev, { trials, seed: 1 }) };
  } catch (e) {
    // As in `evaluate`: the step and memory answers stand on their own; say why the budget is missing.
    if (!(e instanceof UserError)) throw e;
    return { note: `failure Monte Carlo skipped: ${e.format()}` };
  }
}

/** One plan to evaluate: a scenario file with overrides. */
export interface CompareRequest {
  id: number;
  file: string;
  sets: string[];
  /** Drop plan.dp so the GPU count re-derives it (a --vary changed the layout). */
  rederiveDp: boolean;
  /** The plan is one --vary combination (else the file as given, which must load). */
  varied: boolean;
  /** Load the file with these overrides first: if that fails the input itself is wrong, not the varied plan. */
  baseSets?: string[];
  engine?: EngineName;
  trials: number;
}

/** What a compare worker sends back: the step first, then the Monte Carlo (or an error). */
export type CompareResponse =
  | { id: number; type: 'step'; evaluation: Evaluation; step: StepResult | DesStepResult }
  | { id: number; type: 'failures'; failures?: FailureSummary; note?: string }
  | { id: number; type: 'error'; message: string; user: boolean; fatal?: boolean };

/** A scenario file with overrides; `rederiveDp` drops plan.dp so the GPU count re-derives it. */
export function loadPlan(file: string, sets: string[], rederiveDp: boolean): Scenario {
  const raw = readDataFile(file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError('a scenario must be a mapping with model, cluster, plan and training', file);
  const r = applyOverrides(raw, sets, file) as { plan?: Record<string, unknown> };
  if (rederiveDp && r.plan) delete r.plan.dp;
  return parseScenario(r, file);
}

/**
 * Loads and evaluates one plan, sending the step, then the Monte Carlo. A plan that does not load
 * or evaluate is sent as an error row; a file that does not load as given (or with baseSets) throws the
 * UserError, for the caller to stop on.
 */
export function runRequest(req: CompareRequest, send: (r: CompareResponse) => void): void {
  if (req.baseSets) loadPlan(req.file, req.baseSets, false);
  let sc: Scenario | undefined = req.varied ? undefined : loadPlan(req.file, req.sets, false);
  let evaluation: Evaluation;
  try {
    sc ??= loadPlan(req.file, req.sets, req.rederiveDp);
    const r = evaluateStep(sc, req.engine);
    evaluation = r.evaluation;
    send({ id: req.id, type: 'step', evaluation, step: r.step });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    send({ id: req.id, type: 'error', message: e.format(), user: true });
    return;
  }
  send({ id: req.id, type: 'failures', ...evaluateFailures(sc, evaluation, req.trials) });
}
