/**
 * The clusterplan command line: parses flags, loads files, calls the core, renders.
 *
 * Start-up does only what the command needs: the module of the command named on the line is
 * loaded (all of them only for help or an unknown command), the unit memo is primed from the
 * build's cache, and zod is told to parse without code generation. Nothing runs at import time
 * but that set-up (and, outside tests, the program itself).
 */
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { fileURLToPath } from 'node:url';
import { configureZodForCli } from '../schema/common.js';
import { loadUnitCache } from '../io/unit-cache.js';
import { useParseCache } from '../io/parse-cache.js';
import { packageRoot } from '../io/files.js';
import { capLine, escapeControl } from '../errors.js';
import { printJson, reportBug, EXIT_USER_ERROR } from './common.js';

configureZodForCli();
const moduleFile = fileURLToPath(import.meta.url);
loadUnitCache(packageRoot, moduleFile);
useParseCache(packageRoot, moduleFile);

type AnyCommand = CommandModule<object, never>;
const commandLoaders: Record<string, () => Promise<AnyCommand>> = {
  evaluate: async () => (await import('./evaluate.js')).evaluateCommand as AnyCommand,
  compare: async () => (await import('./compare.js')).compareCommand as AnyCommand,
  search: async () => (await import('./search.js')).searchCommand as AnyCommand,
  size: async () => (await import('./size.js')).sizeCommand as AnyCommand,
  scaling: async () => (await import('./scaling.js')).scalingCommand as AnyCommand,
  validate: async () => (await import('./validate.js')).validateCommand as AnyCommand,
  trace: async () => (await import('./trace.js')).traceCommand as AnyCommand,
  failures: async () => (await import('./failures.js')).failuresCommand as AnyCommand,
  merge: async () => (await import('./merge.js')).mergeCommand as AnyCommand,
};

const schemaKinds = ['scenario', 'gpu', 'node', 'fabric', 'model', 'failures', 'software'] as const;

/** Thrown after a usage error is printed, so no command runs; the exit code is 2. */
class UsageExit extends Error {}

/** The parser for `argv`, with only the named command's module loaded (all of them for help or an unknown command). */
async function program(argv: string[]) {
  const named = argv.find((a) => !a.startsWith('-'));
  const loaders = named !== undefined && named in commandLoaders ? [commandLoaders[named]] : Object.values(commandLoaders);
  const commands = await Promise.all(loaders.map((load) => load()));
  let cli = yargs(argv)
    .scriptName('clusterplan')
    .wrap(process.stdout.columns ? Math.min(120, process.stdout.columns) : 100)
    .usage('$0 <command> [options]\n\nSimulate and plan LLM training on GPU clusters.')
    .option('debug', { type: 'boolean', global: true, hidden: true, describe: 'print the stack of an internal error' });
  for (const c of commands) cli = cli.command(c);
  skipHelpCache(cli);
  return cli
    .command({
      command: 'schema [kind]',
      describe: 'Print the JSON Schema of a file kind (for editor completion and checks)',
      builder: (y) => y.positional('kind', { choices: schemaKinds, default: 'scenario' }),
      handler: async (args) => {
        const [{ z }, { ScenarioSchema }, { GpuSchema, NodeSchema, FabricSchema }, { ModelSchema }, { FailureProfileSchema }, { SoftwareSchema }] = await Promise.all([
          import('zod'),
          import('../schema/scenario.js'),
          import('../schema/system.js'),
          import('../schema/model.js'),
          import('../schema/failures.js'),
          import('../schema/software.js'),
        ]);
        const schemas = { scenario: ScenarioSchema, gpu: GpuSchema, node: NodeSchema, fabric: FabricSchema, model: ModelSchema, failures: FailureProfileSchema, software: SoftwareSchema };
        printJson(z.toJSONSchema(schemas[args.kind as keyof typeof schemas], { io: 'input', unrepresentable: 'any' }));
      },
    })
    .command({
      command: 'profiles',
      describe: 'List the bundled GPU, node, fabric and failure profiles, models and scenarios',
      handler: async () => {
        const { listProfiles } = await import('../io/profiles.js');
        for (const [kind, names] of Object.entries(listProfiles())) process.stdout.write(`${kind.padEnd(10)} ${names.join(', ')}\n`);
      },
    })
    .demandCommand(1, `name a command: ${[...Object.keys(commandLoaders), 'schema', 'profiles'].join(', ')}`)
    .strict()
    .help()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${capLine(escapeControl(String(msg)))}\n(run clusterplan --help for usage)\n`);
      throw new UsageExit();
    });
}

/**
 * yargs renders the whole help text after every command it runs (usage.cacheHelpMessage, kept
 * for a failure it might report later with help): 10–20 ms of text wrapping per run. The fail
 * handler above never prints help, and --help renders it when asked, so the cache is skipped.
 */
function skipHelpCache(cli: object): void {
  const internal = cli as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

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
    await (await program(argv)).exitProcess(false).parseAsync();
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

/** Loads every command's module (a start-up snapshot holds them all initialised: bin/snapshot-entry.cjs). */
export async function loadAllCommands(): Promise<void> {
  await Promise.all(Object.values(commandLoaders).map((load) => load()));
}

/**
 * What the start-up snapshot holds (bin/snapshot-entry.cjs): every command's modules, and each
 * file kind's schema run once. On a schema's first parse zod walks all of it to learn whether it
 * can recurse (5-10 ms for the scenario's) and keeps the answer with the schema, so the snapshot
 * starts with the answers. The runs parse an empty mapping: nothing is read, nothing else is kept.
 */
export async function prepareSnapshot(): Promise<void> {
  await loadAllCommands();
  const [{ ScenarioSchema }, { GpuSchema, NodeSchema, FabricSchema }, { ModelSchema }, { FailureProfileSchema }, { SoftwareSchema }] = await Promise.all([
    import('../schema/scenario.js'),
    import('../schema/system.js'),
    import('../schema/model.js'),
    import('../schema/failures.js'),
    import('../schema/software.js'),
  ]);
  for (const schema of [ScenarioSchema, GpuSchema, NodeSchema, FabricSchema, ModelSchema, FailureProfileSchema, SoftwareSchema]) schema.safeParse({});
}

/** The program itself over process.argv: the error handlers of a command-line process, then the parse. */
export async function main(): Promise<void> {
  // `clusterplan ... | head` closes stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  // Whatever escapes a command's own handler is a bug: one line (stack with --debug), exit 70.
  process.on('uncaughtException', (e) => {
    reportBug(e);
    process.exit(process.exitCode);
  });
  process.on('unhandledRejection', (e) => {
    reportBug(e);
    process.exit(process.exitCode);
  });
  try {
    await (await program(hideBin(process.argv))).parseAsync();
  } catch (e) {
    if (e instanceof UsageExit) process.exitCode = EXIT_USER_ERROR;
    else reportBug(e);
  }
}

// The program itself, unless a test imports this module to call run() (test/cli/in-process.ts)
// or the start-up snapshot's build loads it to call main() later (bin/snapshot-entry.cjs).
// No top-level await: the bundle is CommonJS (dist/clusterplan.cjs, for V8's code cache).
const flags = globalThis as Record<symbol, unknown>;
if (!flags[Symbol.for('clusterplan.inProcess')] && !flags[Symbol.for('clusterplan.snapshot')]) void main();
