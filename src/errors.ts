/** Errors a user can fix (bad files, flags, impossible plans) versus bugs. */

/** Longest error line printed; the rest is cut with a count, so a hostile value cannot flood the terminal. */
export const MAX_ERROR_CHARS = 400;

/** A problem with the user's input: printed as one line with file, field path and reason; exit code 2. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly fieldPath?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }

  /** One-line rendering: "file: field.path: reason (hint)", control characters escaped, length capped. */
  format(): string {
    const where = [this.file, this.fieldPath].filter((s) => s !== undefined && s !== '').join(': ');
    return capLine(escapeControl(`${where ? where + ': ' : ''}${this.message}${this.hint ? ` (${this.hint})` : ''}`));
  }
}

/**
 * Several user errors found at once (every layout problem, not the first): printed one line per
 * problem, each line read as its own error; exit code 2 like any UserError.
 */
export class UserErrors extends UserError {
  constructor(readonly problems: UserError[]) {
    super(problems.map((p) => p.message).join('; '), problems[0]?.file, problems[0]?.fieldPath);
    this.name = 'UserErrors';
  }

  /** One line per problem, joined so that each printed line starts with "error: " as the first does. */
  override format(): string {
    return this.problems.map((p) => p.format()).join('\nerror: ');
  }
}

/**
 * An internal error: a broken invariant, a state the code believed impossible. It is a bug in
 * clusterplan, never in the input; the CLI prints it as one line asking for a report (exit 70).
 */
export class BugError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BugError';
  }
}

/**
 * Asserts an internal invariant; a failure throws a BugError. Hot paths guard the call with an
 * `if` so that message strings are only built on failure.
 */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new BugError(`internal invariant violated: ${message}`);
}

/** Escapes control characters (C0, DEL, C1 and line/paragraph separators) as \n, \t or \u{..}. */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\u{${c.charCodeAt(0).toString(16)}}`));
}

/** Cuts a line to MAX_ERROR_CHARS, saying how many characters were left out. */
export function capLine(line: string, max = MAX_ERROR_CHARS): string {
  if (line.length <= max) return line;
  const cut = line.length - max;
  return `${line.slice(0, max)}… (${cut.toLocaleString('en-US')} more characters cut)`;
}
