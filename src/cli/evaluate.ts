/** `clusterplan evaluate <scenario>`: memory, step, throughput and run totals for one plan. */
import type { CommandModule } from 'yargs';
import { loadScenario } from '../io/load.js';
import { evaluateDetailed } from '../run/evaluate.js';
import { failureSummaryForEvaluate } from '../run/failures.js';
import { renderFailureBrief } from '../report/failures.js';
import { renderPipelineTimeline } from '../report/timeline.js';
import type { DesStepResult } from '../step/des/types.js';
import { renderEvaluation } from '../report/text.js';
import { printJson, reportError, setsOption } from './common.js';
import { UserError } from '../errors.js';

/** Trials of the failure Monte Carlo inside `evaluate` (the `failures` command defaults to 1,000). */
export const EVALUATE_FAILURE_TRIALS = 50;

interface Args {
  scenario: string;
  json?: boolean;
  set?: string[];
  gpus?: number;
  engine?: 'des' | 'analytic';
}

export const evaluateCommand: CommandModule<object, Args> = {
  command: 'evaluate <scenario>',
  describe: 'Evaluate a training plan: memory fit, step time, MFU, run days, energy and cost',
  builder: (y) =>
    y
      .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (YAML or JSON)' })
      .option('json', { type: 'boolean', describe: 'print JSON instead of the report' })
      .option('set', { type: 'string', array: true, describe: 'override a field: path=value (repeatable), e.g. plan.tp=4' })
      .option('gpus', { type: 'number', describe: 'resize the cluster; dp is re-derived' })
      .option('engine', { choices: ['des', 'analytic'] as const, describe: 'step engine (default: the scenario’s, des)' }) as never,
  handler: (args) => {
    try {
      const sc = loadScenario(args.scenario, { sets: setsOption(args.set), gpus: args.gpus });
      const { evaluation: ev, step } = evaluateDetailed(sc, { engine: args.engine });
      // A short Monte Carlo of failures and restarts; `clusterplan failures` runs the full one.
      try {
        ev.failures = failureSummaryForEvaluate(sc, ev, { trials: EVALUATE_FAILURE_TRIALS, seed: 1 });
      } catch (e) {
        // The step and memory answers stand on their own; say why the failure budget is missing.
        if (!(e instanceof UserError)) throw e;
        ev.notes.push(`failure Monte Carlo skipped: ${e.format()}`);
      }
      if (args.json) printJson(ev);
      else {
        const extra = ev.failures ? renderFailureBrief(ev.failures) : [];
        if (step.engine === 'des') extra.push(...(extra.length ? [''] : []), 'Pipeline (one row per stage)', renderPipelineTimeline(step as DesStepResult, 100));
        process.stdout.write(renderEvaluation(ev, extra));
      }
    } catch (e) {
      reportError(e);
    }
  },
};
