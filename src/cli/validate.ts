/** `clusterplan validate [file...]`: predicted vs measured on published runs, with error summaries. */
import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import { packageRoot } from '../io/load.js';
import { packageProfiles } from '../io/profiles.js';
import { readCaseFiles } from '../io/validation.js';
import type { EngineName } from '../run/evaluate.js';
import { validateFiles, type ValidationRun } from '../validation/cases.js';
import { renderValidation } from '../report/validation.js';
import { printJson, reportError } from './common.js';

interface Args {
  files?: string[];
  json?: boolean;
  engine?: EngineName;
}

/** Loads the case files and predicts and scores every case (the command without its rendering). */
export function runValidation(files: readonly string[], engine?: EngineName): ValidationRun {
  return validateFiles(readCaseFiles(files), packageProfiles(), engine);
}

export const validateCommand: CommandModule<object, Args> = {
  command: 'validate [files..]',
  describe: 'Predict published training runs and report the error (default: validation/cases-dev.json)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'case files in the validation format' })
      .option('json', { type: 'boolean', describe: 'print JSON: cases[] and summary' })
      .option('engine', { choices: ['des', 'analytic'] as const, describe: 'step engine (default: des)' }) as never,
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
