/**
 * Failure budgeting for `evaluate`: a short Monte Carlo of the run. The engine and its flow live
 * in run-model.ts, engine.ts, plan-run.ts, monte-carlo.ts and summary.ts.
 */
import type { Seed } from '../sim/index.js';
import type { Scenario } from '../plan/resolve.js';
import { runInputsFromScenario } from './inputs.js';
import { simulateRun } from './monte-carlo.js';
import type { FailureSummary } from './summary.js';

export type { FailureSummary } from './summary.js';

/**
 * A quick Monte Carlo summary for `evaluate` (default 200 trials, seed 1, the scenario's interval
 * or Young/Daly); undefined when the scenario has no failure profile.
 */
export function failureSummaryForEvaluate(sc: Scenario, evaluation: { step: { seconds: number; tokensPerStep: number } }, options: { trials?: number; seed?: Seed } = {}): FailureSummary | undefined {
  if (!sc.failures) return undefined;
  return simulateRun(runInputsFromScenario(sc, evaluation), { trials: options.trials ?? 200, seed: options.seed ?? 1 });
}
