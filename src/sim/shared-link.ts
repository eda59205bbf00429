/**
 * A simulated link shared fairly by its flows, built on the engine's process wake-ups.
 * Callbacks are never invoked synchronously from startFlow(): always from a later engine event,
 * so callers never see re-entrant completions.
 */
import type { ProcessScheduler, SimProcess } from './engine.js';
import { EventHeap } from './heap.js';
import { invariant } from './invariant.js';
import { checkTag, dueEpsilon, LatencyJoiner, PendingFlows, type DoneCallback } from './flows.js';

/**
 * One link of `bandwidthBytesPerSecond` shared equally by its active flows
 * (processor sharing: n flows each get B/n).
 *
 * Uses virtual time: S(t) is the service (bytes) every active flow has received
 * since the link was last idle, dS/dt = B/n. A flow of b bytes joining at S0
 * finishes when S reaches S0 + b, so flows sit in a heap keyed by that finish
 * tag and nothing needs updating per flow when n changes: O(log n) per change.
 * Equal flows started together get identical tags and finish in the same event.
 *
 * At most one wake-up is tracked. A change that makes the next completion later
 * keeps the earlier wake-up (it fires, finds nothing due and re-arms); a change
 * that makes it earlier schedules a new one under a new epoch and the old one
 * is ignored when it fires. This avoids piling stale entries into the engine heap.
 */
export class SharedLink implements SimProcess {
  private readonly flows = new EventHeap<DoneCallback | null>(16);
  private readonly pending = new PendingFlows();
  private readonly joiner = new LatencyJoiner(this);
  private virtual = 0; // S, bytes
  private lastUpdate = 0;
  private busyAcc = 0;
  private bytesAcc = 0;
  private epoch = 0;
  private wakeAt = Infinity;
  private _completed = 0;
  // Reused between wake-ups so completing flows allocates nothing.
  private doneFns: (DoneCallback | null)[] = [];
  private doneTags: number[] = [];

  /** A link of `bandwidthBytesPerSecond` (> 0, finite) scheduling on `sim`. */
  constructor(
    private readonly sim: ProcessScheduler,
    readonly bandwidthBytesPerSecond: number,
    readonly name: string = 'link',
  ) {
    if (!(bandwidthBytesPerSecond > 0 && bandwidthBytesPerSecond < Infinity)) {
      invariant(false, `SharedLink: bandwidth must be finite bytes/s > 0, got ${bandwidthBytesPerSecond}`);
    }
    this.lastUpdate = sim.now;
  }

  /**
   * Start a flow of `bytes` after `latencySeconds`; it then shares the link with the other active
   * flows and `onDone(tag, now)` runs when its last byte is through.
   */
  startFlow(bytes: number, onDone: DoneCallback | null = null, latencySeconds: number = 0, tag: number = 0): void {
    if (!(bytes >= 0 && bytes < Infinity)) invariant(false, `SharedLink.startFlow: bytes must be finite >= 0, got ${bytes}`);
    if (!(latencySeconds >= 0 && latencySeconds < Infinity)) {
      invariant(false, `SharedLink.startFlow: latency must be finite seconds >= 0, got ${latencySeconds}`);
    }
    checkTag(tag, 'SharedLink.startFlow');
    if (latencySeconds > 0) {
      const slot = this.pending.add(bytes, onDone, tag);
      this.sim.scheduleProcess(latencySeconds, this.joiner, slot);
      return;
    }
    this.join(bytes, onDone, tag);
  }

  /** @internal latency expired for a pending flow. */
  joinPending(slot: number): void {
    const p = this.pending;
    const bytes = p.bytes[slot];
    const done = p.done[slot];
    const tag = p.tags[slot];
    p.release(slot);
    this.join(bytes, done, tag);
  }

  private join(bytes: number, onDone: DoneCallback | null, tag: number): void {
    this.advance();
    this.flows.push(this.virtual + bytes, 0, onDone, tag);
    this.arm();
  }

  /** Engine wake-up (tag = epoch). */
  onSimEvent(tag: number): void {
    if (tag !== this.epoch) return; // superseded by an earlier wake-up
    this.wakeAt = Infinity;
    this.advance();
    const flows = this.flows;
    const now = this.sim.now;
    const n = flows.size;
    const secondsPerByte = n / this.bandwidthBytesPerSecond;
    const eps = dueEpsilon(now);
    const fns = this.doneFns;
    const tags = this.doneTags;
    let k = 0;
    while (flows.size > 0 && (flows.peekTime() - this.virtual) * secondsPerByte <= eps) {
      fns[k] = flows.pop()!;
      tags[k] = flows.lastTag;
      k++;
    }
    // Re-basing S while idle keeps magnitudes small, so rounding stays relative to flow sizes.
    if (flows.size === 0) this.virtual = 0;
    this._completed += k;
    this.arm();
    for (let i = 0; i < k; i++) {
      const fn = fns[i];
      fns[i] = null;
      if (fn !== null) fn(tags[i], now);
    }
  }

  /** Flows currently transferring (excluding ones still in their latency phase). */
  get activeFlows(): number {
    return this.flows.size;
  }

  /** Current rate (bytes/s) of each active flow: B/n, or B when idle (what a new flow would get alone). */
  get perFlowRate(): number {
    const n = this.flows.size;
    return n > 0 ? this.bandwidthBytesPerSecond / n : this.bandwidthBytesPerSecond;
  }

  /** Flows completed so far. */
  get completedFlows(): number {
    return this._completed;
  }

  /** Seconds during which at least one flow was transferring, up to now. */
  get busySeconds(): number {
    return this.busyAcc + (this.flows.size > 0 ? this.sim.now - this.lastUpdate : 0);
  }

  /** Bytes moved over the link so far (a busy link always runs at full bandwidth). */
  get bytesTransferred(): number {
    return this.bytesAcc + (this.flows.size > 0 ? (this.sim.now - this.lastUpdate) * this.bandwidthBytesPerSecond : 0);
  }

  /** Bring S, busy time and bytes up to the engine clock. */
  private advance(): void {
    const now = this.sim.now;
    const dt = now - this.lastUpdate;
    this.lastUpdate = now;
    const n = this.flows.size;
    if (n > 0 && dt > 0) {
      this.virtual += (dt * this.bandwidthBytesPerSecond) / n;
      this.busyAcc += dt;
      this.bytesAcc += dt * this.bandwidthBytesPerSecond;
    }
  }

  /** Make sure a wake-up is scheduled no later than the next completion. */
  private arm(): void {
    const flows = this.flows;
    const n = flows.size;
    if (n === 0) return;
    const now = this.sim.now;
    const remaining = flows.peekTime() - this.virtual;
    let t = now + (remaining > 0 ? (remaining * n) / this.bandwidthBytesPerSecond : 0);
    if (!(t >= now)) t = now;
    if (t < this.wakeAt) {
      this.epoch = (this.epoch + 1) & 0x3fffffff;
      this.wakeAt = t;
      this.sim.scheduleProcessAt(t, this, this.epoch);
    }
  }
}
