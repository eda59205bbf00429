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

const program = (argv: string[]) => yargs(argv)
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
    throw new UsageExit();
  });

/** Thrown after a usage error is printed, so no command runs; the exit code is 2. */
class UsageExit extends Error {}

/** Where an in-process run writes: the text each stream would receive. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Runs the command line in this process (tests; the real entry is the same parse over
 * process.argv): what the commands write to stdout and stderr goes to `io`, and the promise
 * resolves to the exit code. Runs are sequential: the streams are redirected for its duration.
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const out = process.stdout.write;
  const err = process.stderr.write;
  const code = process.exitCode;
  const sink = (f: (t: string) => void) => ((chunk: string | Uint8Array) => (f(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), true)) as typeof out;
  process.stdout.write = sink(io.stdout);
  process.stderr.write = sink(io.stderr);
  process.exitCode = undefined;
  try {
    await program(argv).exitProcess(false).parseAsync();
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof UsageExit) return EXIT_USER_ERROR;
    throw e;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = code;
  }
}

// The program itself, unless a test imports this module to call run() (test/cli/in-process.ts).
if (!(globalThis as Record<symbol, unknown>)[Symbol.for('clusterplan.inProcess')]) {
  try {
    await program(hideBin(process.argv)).parseAsync();
  } catch (e) {
    if (!(e instanceof UsageExit)) throw e;
    process.exitCode = EXIT_USER_ERROR;
  }
}
