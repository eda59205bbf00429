/**
 * Invariant checking for the simulation core: the project's one invariant and internal error
 * type (src/errors.ts), re-exported under the names the simulator has always used.
 *
 * The simulator must fail loudly and early on impossible inputs (a NaN delay
 * would otherwise silently poison the clock and every later timestamp).
 */
export { invariant, BugError as InvariantError } from '../errors.js';
