/** `clusterplan trace <scenario> -o step.json`: one simulated step as a Chrome trace (Perfetto, chrome://tracing). */
import type { CommandModule } from 'yargs';
import { existsSync, statSync } from 'node:fs';
import { writeFileSafely } from '../io/write.js';
import { dirname, resolve } from 'node:path';
import { loadScenario } from '../io/load.js';
import { tracedStep } from '../run/evaluate.js';
import { buildChromeTrace, chromeTraceJson } from '../report/chrome-trace.js';
import { renderPipelineTimeline } from '../report/timeline.js';
import { UserError } from '../errors.js';
import { formatSeconds, formatPercent, formatInt } from '../units/format.js';
import { reportError } from './common.js';
import { scenarioOptions, setsOption, gpusOption } from './options.js';

interface Args {
  scenario: string;
  output: string;
  set?: string[];
  gpus?: string;
  quiet?: boolean;
}

/** Writes `text` to `file` ('-' = stdout), turning file-system problems into user errors. */
function writeOutput(file: string, text: string): void {
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  const path = resolve(file);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UserError('is a directory', file, '--output', 'give a file name, e.g. -o step.json');
  if (!existsSync(dirname(path))) throw new UserError(`directory ${dirname(path)} does not exist`, file, '--output');
  writeFileSafely(file, text, { field: '--output' });
}

export const traceCommand: CommandModule<object, Args> = {
  command: 'trace <scenario>',
  describe: 'Simulate one training step and write it as a Chrome trace (open in https://ui.perfetto.dev or chrome://tracing)',
  builder: (y) =>
    scenarioOptions(y, 'plan.vpp=4')
      .option('output', { alias: 'o', type: 'string', default: 'step.json', describe: "trace file to write ('-' for stdout)" })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'do not print the summary and text timeline' }) as never,
  handler: (args) => {
    try {
      const output = String(args.output ?? '');
      if (output.trim() === '') throw new UserError('needs a file name', undefined, '--output', "e.g. -o step.json, or '-' for stdout");
      const sc = loadScenario(args.scenario, { sets: setsOption(args.set), gpus: gpusOption(args.gpus) });
      const result = tracedStep(sc);
      const trace = buildChromeTrace(sc, result);
      writeOutput(output, chromeTraceJson(trace));
      if (!args.quiet) {
        // With the trace on stdout the summary goes to stderr, so the JSON stays clean.
        const say = (s: string) => (output === '-' ? process.stderr : process.stdout).write(s);
        say(`${output === '-' ? 'trace' : `wrote ${output}`}: ${formatInt(trace.traceEvents.length)} events · step ${formatSeconds(result.stepSeconds)} · bubble ${formatPercent(result.bubbleFraction)} · open in https://ui.perfetto.dev or chrome://tracing\n`);
        say(renderPipelineTimeline(result, 100));
      }
    } catch (e) {
      reportError(e);
    }
  },
};
