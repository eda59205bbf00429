/** `clusterplan validate [file...]`: predicted vs measured on published runs, with error summaries. */
import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import { readDataFile, packageRoot } from '../io/load.js';
import { packageProfiles } from '../io/profiles.js';
import { UserError } from '../errors.js';
import { CaseSchema, caseToScenario, scoreCase, summariseAll, type CaseResult } from '../validation/cases.js';
import { evaluate, type EngineName } from '../run/evaluate.js';
import { renderValidation } from '../report/validation.js';
import { printJson, reportError } from './common.js';

interface Args {
  files?: string[];
  json?: boolean;
  engine?: EngineName;
}

/** Predicts and scores every case in the files (pure apart from reading them). */
export function runValidation(files: string[], engine?: EngineName): { cases: CaseResult[]; summary: ReturnType<typeof summariseAll> } {
  const profiles = packageProfiles();
  const results: CaseResult[] = [];
  for (const file of files) {
    const raw = readDataFile(file);
    if (!Array.isArray(raw)) throw new UserError('a validation file must be a JSON array of cases', file);
    raw.forEach((item, i) => {
      const parsed = CaseSchema.safeParse(item);
      if (!parsed.success) {
        const id = (item as { id?: unknown })?.id;
        const issue = parsed.error.issues[0];
        results.push({
          id: typeof id === 'string' ? id : `${file}[${i}]`, source: 'unknown', gpu: 'unknown', skipped: true,
          reason: `malformed case: ${issue.path.join('.')}: ${issue.message}`, predicted: null,
          measured: { stepSeconds: null, tokensPerSecondPerGpu: null, tflopsPerGpu: null, mfu: null, mfuPeakTflops: null, memoryGiBPerGpu: null },
          errors: { throughputRel: null, mfuPoints: null, memoryRel: null },
        });
        return;
      }
      const c = parsed.data;
      const { scenario, reason } = caseToScenario(c, profiles);
      results.push(scenario ? scoreCase(c, evaluate(scenario, { engine })) : scoreCase(c, null, reason));
    });
  }
  return { cases: results, summary: summariseAll(results) };
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
