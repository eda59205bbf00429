/** `clusterplan validate [file...]`: predicted vs measured on published runs, with error summaries. */
import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import { packageRoot } from '../io/load.js';
import { packageProfiles } from '../io/profiles.js';
import { readCaseFiles } from '../io/validation.js';
import type { EngineName } from '../run/evaluate.js';
import { validateFiles, wellFormedCases, type ValidationRun } from '../validation/cases.js';
import { crossValidateBySource } from '../validation/cv.js';
import { renderValidation, renderCrossValidation } from '../report/validation.js';
import { printJson, reportError } from './common.js';
import { jsonOption, engineOption } from './options.js';

interface Args {
  files?: string[];
  json?: boolean;
  engine?: EngineName;
  cv?: 'source';
}

/** Loads the case files and predicts and scores every case (the command without its rendering). */
export function runValidation(files: readonly string[], engine?: EngineName): ValidationRun {
  return validateFiles(readCaseFiles(files), packageProfiles(), engine);
}

export const validateCommand: CommandModule<object, Args> = {
  command: 'validate [files..]',
  describe: 'Predict published training runs and report the error (default: validation/cases-dev.json)',
  builder: (y) =>
    engineOption(jsonOption(y.positional('files', { type: 'string', array: true, describe: 'case files in the validation format' }), 'print JSON: cases[] and summary'), 'step engine (default: des; with --cv: analytic)')
      .option('cv', { choices: ['source'] as const, describe: 'cross-validate: refit the calibrated constants with each source left out and predict it' }) as never,
  handler: (args) => {
    try {
      const files = args.files && args.files.length ? args.files : [join(packageRoot, 'validation', 'cases-dev.json')];
      if (args.cv) {
        // The refits score every case hundreds of times: the closed form unless --engine says otherwise.
        const cv = crossValidateBySource(wellFormedCases(readCaseFiles(files)), packageProfiles(), { engine: args.engine ?? 'analytic' });
        if (args.json) printJson(cv);
        else process.stdout.write(renderCrossValidation(cv));
        return;
      }
      const result = runValidation(files, args.engine);
      if (args.json) printJson(result);
      else process.stdout.write(renderValidation(result.cases, result.summary));
    } catch (e) {
      reportError(e);
    }
  },
};
