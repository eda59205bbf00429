/** Helpers shared by commands: error printing, exit codes, JSON output. */
import { UserError } from '../errors.js';

/** Exit code for user errors (bad files, flags, impossible plans). */
export const EXIT_USER_ERROR = 2;

/** Prints a user error as one line and sets exit code 2; anything else is a bug and is rethrown. */
export function reportError(e: unknown): void {
  if (e instanceof UserError) {
    process.stderr.write(`error: ${e.format()}\n`);
    process.exitCode = EXIT_USER_ERROR;
    return;
  }
  throw e;
}

/** Writes a value as stable, pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Reads repeatable `--set` options into a list of strings. */
export function setsOption(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}
