/** `clusterplan validate [file...]`: predicted vs measured on published runs, with error summaries. */
import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import { packageRoot } from '../io/load.js';
import { packageProfiles } from '../io/profiles.js';
import { readCaseFiles } from '../io/validation.js';
import type { EngineName } from '../run/evaluate.js';
import { validateFiles, wellFormedCases, type ValidationRun } from '../validation/cases.js';
import { crossValidate, caseGeneration } from '../validation/cv.js';
import { withCaseIntervals } from '../validation/intervals.js';
import { summariseAll } from '../validation/score.js';
import { loadCalibration, loadResidualTable } from '../io/calibration.js';
import { renderValidation, renderCrossValidation } from '../report/validation.js';
import { printJson, reportError } from './common.js';
import { jsonOption, engineOption } from './options.js';

interface Args {
  files?: string[];
  json?: boolean;
  engine?: EngineName;
  cv?: 'source' | 'gpu';
}

/**
 * Loads the case files and predicts and scores every case (the command without its rendering);
 * with `intervals`, each well-formed case gets its 80 % interval from the shipped cross-validated
 * residuals of the other sources (validation/residuals.json) and the summary their coverage.
 */
export function runValidation(files: readonly string[], engine?: EngineName, intervals = false): ValidationRun {
  const caseFiles = readCaseFiles(files);
  const run = validateFiles(caseFiles, packageProfiles(), engine);
  if (!intervals) return run;
  const calibration = loadCalibration();
  const table = loadResidualTable();
  const byId = new Map(wellFormedCases(caseFiles).map((c) => [c.id, c]));
  const cases = run.cases.map((r) => {
    const c = byId.get(r.id);
    return c ? withCaseIntervals([c], [r], table, (x) => caseGeneration(x, calibration))[0] : r;
  });
  return { cases, summary: summariseAll(cases) };
}

export const validateCommand: CommandModule<object, Args> = {
  command: 'validate [files..]',
  describe: 'Predict published training runs and report the error (default: validation/cases-dev.json)',
  builder: (y) =>
    engineOption(jsonOption(y.positional('files', { type: 'string', array: true, describe: 'case files in the validation format' }), 'print JSON: cases[] and summary'), 'step engine (default: des; with --cv: analytic)')
      .option('cv', { choices: ['source', 'gpu'] as const, describe: 'cross-validate: refit the calibrated constants from the unfitted profiles with each source (or GPU generation) left out and predict it' }) as never,
  handler: (args) => {
    try {
      const files = args.files && args.files.length ? args.files : [join(packageRoot, 'validation', 'cases-dev.json')];
      if (args.cv) {
        // The refits score every case hundreds of times: the closed form unless --engine says otherwise.
        const cv = crossValidate(wellFormedCases(readCaseFiles(files)), packageProfiles(), loadCalibration(), { engine: args.engine ?? 'analytic', by: args.cv });
        if (args.json) printJson(cv);
        else process.stdout.write(renderCrossValidation(cv));
        return;
      }
      const result = runValidation(files, args.engine, true);
      if (args.json) printJson(result);
      else process.stdout.write(renderValidation(result.cases, result.summary));
    } catch (e) {
      reportError(e);
    }
  },
};
