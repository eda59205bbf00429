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
import type { PlanChoice } from '../search/space.js';

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

/** The step times the search found for a plan (the step engine it re-ranked with, and the closed form). */
export interface SearchExpectation {
  engine: 'des' | 'analytic';
  stepSeconds: number;
  closedFormStepSeconds: number;
}

/** One plan the search found, as overrides of the searched scenario. */
export interface SearchPlan {
  rank: number;
  plan: PlanChoice;
  gpus: number;
  sets: string[];
  expect: SearchExpectation;
}

/** One plan to evaluate: a scenario file with overrides. */
export interface CompareRequest {
  type?: 'evaluate';
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
  /** A plan from the search: the step times the search found for it, which its evaluation must reproduce. */
  expect?: SearchExpectation;
}

/** What a compare worker sends back: the step first, then the Monte Carlo (or an error); a search's progress, then its plans. */
export type CompareResponse =
  | { id: number; type: 'step'; evaluation: Evaluation; step: StepResult | DesStepResult }
  | { id: number; type: 'failures'; failures?: FailureSummary; note?: string }
  | { id: number; type: 'error'; message: string; user: boolean; fatal?: boolean }
  | { id: number; type: 'search-progress'; label: string }
  | { id: number; type: 'search'; plans: SearchPlan[]; notes: string[]; scenarioGpus: number };

/** A scenario file with overrides, as parsed data before validation. */
export function readPlanData(file: string, sets: string[]): Record<string, unknown> {
  const raw = readDataFile(file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError('a scenario must be a mapping with model, cluster, plan and training', file);
  return applyOverrides(raw, sets, file) as Record<string, unknown>;
}

/** A scenario file with overrides; `rederiveDp` drops plan.dp so the GPU count re-derives it. */
export function loadPlan(file: string, sets: string[], rederiveDp: boolean): Scenario {
  const r = readPlanData(file, sets) as { plan?: Record<string, unknown> };
  if (rederiveDp && r.plan) delete r.plan.dp;
  return parseScenario(r, file);
}

/**
 * Whether an evaluation reproduces the step times the search found for the plan: the closed form
 * always, the discrete-event step when both ran it (the search re-ranks with the scenario's engine).
 * A note saying by how much when it does not (none expected: both evaluate the same scenario).
 */
export function checkSearchStep(ev: Evaluation, expect: SearchExpectation): string | undefined {
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  const pairs: [string, number, number][] = [['closed-form step', ev.step.analyticSeconds, expect.closedFormStepSeconds]];
  if (ev.engine === expect.engine) pairs.push([`${ev.engine === 'des' ? 'discrete-event' : 'closed-form'} step`, ev.step.seconds, expect.stepSeconds]);
  const off = pairs.filter(([, a, b]) => !same(a, b));
  return off.length ? `does not reproduce the search: ${off.map(([what, a, b]) => `${what} ${a} s here, ${b} s in the search`).join('; ')}` : undefined;
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
    const off = req.expect && checkSearchStep(evaluation, req.expect);
    if (off) evaluation = { ...evaluation, notes: [...evaluation.notes, off] };
    send({ id: req.id, type: 'step', evaluation, step: r.step });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    send({ id: req.id, type: 'error', message: e.format(), user: true });
    return;
  }
  send({ id: req.id, type: 'failures', ...evaluateFailures(sc, evaluation, req.trials) });
}
