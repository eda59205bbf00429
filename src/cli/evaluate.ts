/** `clusterplan evaluate <scenario>`: memory, step, throughput and run totals for one plan. */
import type { CommandModule } from 'yargs';
import { loadScenario } from '../io/load.js';
import { evaluate } from '../run/evaluate.js';
import { renderEvaluation } from '../report/text.js';
import { printJson, reportError, setsOption } from './common.js';

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
      const ev = evaluate(sc);
      if (args.json) printJson(ev);
      else process.stdout.write(renderEvaluation(ev));
    } catch (e) {
      reportError(e);
    }
  },
};
