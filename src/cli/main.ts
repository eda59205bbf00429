/** The clusterplan command line: parses flags, loads files, calls the core, renders. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { z } from 'zod';
import { evaluateCommand } from './evaluate.js';
import { validateCommand } from './validate.js';
import { traceCommand } from './trace.js';
import { failuresCommand } from './failures.js';
import { searchCommand } from './search.js';
import { mergeCommand } from './merge.js';
import { sizeCommand } from './size.js';
import { scalingCommand } from './scaling.js';
import { ScenarioSchema } from '../schema/scenario.js';
import { GpuSchema, NodeSchema, FabricSchema } from '../schema/system.js';
import { ModelSchema } from '../schema/model.js';
import { FailureProfileSchema } from '../schema/failures.js';
import { listProfiles } from '../io/profiles.js';
import { compareCommand } from './compare.js';
import { printJson, EXIT_USER_ERROR } from './common.js';

// `clusterplan ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const schemas = { scenario: ScenarioSchema, gpu: GpuSchema, node: NodeSchema, fabric: FabricSchema, model: ModelSchema, failures: FailureProfileSchema };

await yargs(hideBin(process.argv))
  .scriptName('clusterplan')
  .wrap(process.stdout.columns ? Math.min(120, process.stdout.columns) : 100)
  .usage('$0 <command> [options]\n\nSimulate and plan LLM training on GPU clusters.')
  .command(evaluateCommand)
  .command(validateCommand)
  .command(traceCommand)
  .command(failuresCommand)
  .command(searchCommand)
  .command(mergeCommand)
  .command(sizeCommand)
  .command(scalingCommand)
  .command(compareCommand)
  .command({
    command: 'schema [kind]',
    describe: 'Print the JSON Schema of a file kind (for editor completion and checks)',
    builder: (y) => y.positional('kind', { choices: Object.keys(schemas), default: 'scenario' }),
    handler: (args) => {
      printJson(z.toJSONSchema(schemas[args.kind as keyof typeof schemas], { io: 'input', unrepresentable: 'any' }));
    },
  })
  .command({
    command: 'profiles',
    describe: 'List the bundled GPU, node, fabric and failure profiles, models and scenarios',
    handler: () => {
      for (const [kind, names] of Object.entries(listProfiles())) process.stdout.write(`${kind.padEnd(10)} ${names.join(', ')}\n`);
    },
  })
  .demandCommand(1, 'name a command: evaluate, compare, search, size, scaling, validate, trace, failures, merge, schema, profiles')
  .strict()
  .help()
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(`error: ${msg}\n(run clusterplan --help for usage)\n`);
    process.exit(EXIT_USER_ERROR);
  })
  .parseAsync();
