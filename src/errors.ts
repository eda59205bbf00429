/** Errors a user can fix (bad files, flags, impossible plans) versus bugs. */

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

  /** One-line rendering: "file: field.path: reason (hint)". */
  format(): string {
    const where = [this.file, this.fieldPath].filter((s) => s !== undefined && s !== '').join(': ');
    return `${where ? where + ': ' : ''}${this.message}${this.hint ? ` (${this.hint})` : ''}`;
  }
}

/** Asserts an internal invariant; a failure is a bug in clusterplan, not in the input. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`internal invariant violated: ${message}`);
}
