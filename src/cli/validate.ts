/** `clusterplan validate [file...]`: predicted vs measured on published runs, with error summaries. */
import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import { packageRoot } from '../io/load.js';
import { runValidation } from '../io/validation.js';
import type { EngineName } from '../run/evaluate.js';
import { renderValidation } from '../report/validation.js';
import { printJson, reportError } from './common.js';
import { jsonOption, engineOption } from './options.js';

interface Args {
  files?: string[];
  json?: boolean;
  engine?: EngineName;
}

export const validateCommand: CommandModule<object, Args> = {
  command: 'validate [files..]',
  describe: 'Predict published training runs and report the error (default: validation/cases-dev.json)',
  builder: (y) =>
    engineOption(jsonOption(y.positional('files', { type: 'string', array: true, describe: 'case files in the validation format' }), 'print JSON: cases[] and summary'), 'step engine (default: des)') as never,
  handler: (args) => {
    try {
      const files = args.files && args.files.length ? args.files : [join(packageRoot, 'validation', 'cases-dev.json')];
      const result = runValidation(files, args.engine);
      if (args.json) printJson(result);
      else process.stdout.write(renderValidation(result.cases, result.summary));
    } catch (e) {
      reportError(e);
    }
  },
};
