/**
 * Pieces shared by the flow resources (shared-link.ts): completion callbacks with int32 tags
 * chosen by the caller, so one shared callback can serve many operations without allocating a
 * closure per operation, and the pool of flows waiting out their latency.
 */
import type { SimProcess } from './engine.js';
import { invariant } from './invariant.js';

/** Completion callback: `tag` as given at submission, `nowSeconds` the completion time. */
export type DoneCallback = (tag: number, nowSeconds: number) => void;

export function checkTag(tag: number, what: string): void {
  if ((tag | 0) !== tag) invariant(false, `${what}: tag must be an int32, got ${tag}`);
}

/**
 * Tolerance (seconds) under which a flow is considered finished "now": floating-point
 * rounding in rate * time products must not leave a flow with a few stray bytes that
 * would need an extra, near-zero-length event (or, worse, a wake-up that never advances
 * the clock). Scales with the clock so that it stays well above one ulp of `now`.
 */
export function dueEpsilon(now: number): number {
  return 1e-12 + Math.abs(now) * 1e-14;
}

/** Slot pool of flows in their latency phase; the owner is woken with the slot as tag. */
export class PendingFlows {
  bytes: number[] = [];
  done: (DoneCallback | null)[] = [];
  tags: number[] = [];
  private free: number[] = [];

  add(bytes: number, done: DoneCallback | null, tag: number): number {
    const slot = this.free.length > 0 ? this.free.pop()! : this.bytes.length;
    this.bytes[slot] = bytes;
    this.done[slot] = done;
    this.tags[slot] = tag;
    return slot;
  }

  release(slot: number): void {
    this.done[slot] = null;
    this.free.push(slot);
  }
}

/** Wake-up target for latency expiry, so the owner's own onSimEvent tags stay epochs. */
export class LatencyJoiner implements SimProcess {
  constructor(private readonly owner: { joinPending(slot: number): void }) {}
  onSimEvent(tag: number): void {
    this.owner.joinPending(tag);
  }
}
