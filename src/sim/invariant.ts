/**
 * Invariant checking for the simulation core.
 *
 * The simulator must fail loudly and early on impossible inputs (a NaN delay
 * would otherwise silently poison the clock and every later timestamp).
 */

/** Error thrown when a simulation invariant is violated. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/**
 * Throw an InvariantError with `message` unless `cond` is truthy.
 * Hot paths guard the call with an `if` so that message strings are only built on failure.
 */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}
