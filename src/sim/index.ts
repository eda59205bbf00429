/** Public API of the generic discrete-event simulation core. */
export { EventHeap } from './heap.js';
export {
  Simulation,
  type EventHandler,
  type SimProcess,
  type ProcessScheduler,
  type RunOptions,
  type RunResult,
  type StopReason,
} from './engine.js';
export { SharedLink } from './shared-link.js';
export { type DoneCallback } from './flows.js';
export { Rng, createRng, deriveSeed, type Seed } from './rng.js';
export { invariant, InvariantError } from './invariant.js';
