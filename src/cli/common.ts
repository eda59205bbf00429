/** Helpers shared by commands: error printing, exit codes, JSON output. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, capLine, escapeControl } from '../errors.js';
import { packageRoot } from '../io/files.js';

/** Exit code for user errors (bad files, flags, impossible plans). */
export const EXIT_USER_ERROR = 2;
/** Exit code for an internal error: a bug in clusterplan (BSD's EX_SOFTWARE). */
export const EXIT_BUG = 70;

/**
 * Prints a user error as one line and sets exit code 2. Anything else is a bug: one line saying
 * so, with the version and the command to reproduce, exit code 70; `--debug` adds the stack.
 */
export function reportError(e: unknown): void {
  if (e instanceof UserError) {
    process.stderr.write(`error: ${e.format()}\n`);
    process.exitCode = EXIT_USER_ERROR;
    return;
  }
  reportBug(e);
}

/** The one-line bug banner (and the stack with --debug); sets exit code 70. */
export function reportBug(e: unknown, argv: string[] = process.argv.slice(2)): void {
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const command = ['clusterplan', ...argv.filter((a) => a !== '--debug').map(shellQuote)].join(' ');
  process.stderr.write(`error: internal bug in clusterplan ${version()} (${capLine(escapeControl(message), 200)}); please report it with the command: ${capLine(escapeControl(command), 300)}${argv.includes('--debug') ? '' : ' (add --debug for the stack)'}\n`);
  if (argv.includes('--debug') && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  process.exitCode = EXIT_BUG;
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The package version, read when a bug is reported (never at start-up). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Writes a value as stable, pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export { setsOption } from './options.js';
