/**
 * Simulated resources built on the engine's process wake-ups:
 *
 * - FifoStream: a serial resource (like a CUDA stream) running one item at a time.
 * - SharedLink: one link of bandwidth B shared fairly (processor sharing) by its flows.
 * - Network: flows crossing several links, rates by max-min fairness (progressive filling).
 *
 * Completion callbacks receive an int32 `tag` chosen by the caller so one shared
 * callback can serve many operations without allocating a closure per operation.
 * Callbacks are never invoked synchronously from submit()/startFlow(): always from
 * a later engine event, so callers never see re-entrant completions.
 */

import type { ProcessScheduler, SimProcess } from './engine.js';
import { EventHeap } from './heap.js';
import { invariant } from './invariant.js';

/** Completion callback: `tag` as given at submission, `nowSeconds` the completion time. */
export type DoneCallback = (tag: number, nowSeconds: number) => void;

function checkTag(tag: number, what: string): void {
  if ((tag | 0) !== tag) invariant(false, `${what}: tag must be an int32, got ${tag}`);
}

/**
 * Tolerance (seconds) under which a flow is considered finished "now": floating-point
 * rounding in rate * time products must not leave a flow with a few stray bytes that
 * would need an extra, near-zero-length event (or, worse, a wake-up that never advances
 * the clock). Scales with the clock so that it stays well above one ulp of `now`.
 */
function dueEpsilon(now: number): number {
  return 1e-12 + Math.abs(now) * 1e-14;
}

// ---------------------------------------------------------------------------
// FifoStream
// ---------------------------------------------------------------------------

/** A serial resource: submitted items run one at a time in submission order. */
export class FifoStream implements SimProcess {
  // Ring buffer of waiting items (struct of arrays to avoid per-item objects).
  private qDur: Float64Array;
  private qTag: Int32Array;
  private qDone: (DoneCallback | null)[];
  private qHead = 0;
  private qLen = 0;

  private busy = false;
  private curStart = 0;
  private curTag = 0;
  private curDone: DoneCallback | null = null;
  private busyAcc = 0;
  private _completed = 0;

  /** Create a stream scheduling its completions on `sim`; `name` is for reports only. */
  constructor(
    private readonly sim: ProcessScheduler,
    readonly name: string = 'stream',
  ) {
    this.qDur = new Float64Array(16);
    this.qTag = new Int32Array(16);
    this.qDone = new Array<DoneCallback | null>(16).fill(null);
  }

  /** Queue `durationSeconds` of work; `onDone(tag, now)` is called when it completes. */
  submit(durationSeconds: number, onDone: DoneCallback | null = null, tag: number = 0): void {
    if (!(durationSeconds >= 0 && durationSeconds < Infinity)) {
      invariant(false, `FifoStream.submit: duration must be finite seconds >= 0, got ${durationSeconds}`);
    }
    checkTag(tag, 'FifoStream.submit');
    if (!this.busy) {
      this.start(durationSeconds, onDone, tag);
      return;
    }
    if (this.qLen === this.qDur.length) this.grow();
    const cap = this.qDur.length;
    const i = (this.qHead + this.qLen) & (cap - 1);
    this.qDur[i] = durationSeconds;
    this.qTag[i] = tag;
    this.qDone[i] = onDone;
    this.qLen++;
  }

  /** Engine wake-up: the running item has finished. */
  onSimEvent(_tag: number): void {
    const now = this.sim.now;
    this.busyAcc += now - this.curStart;
    this._completed++;
    const done = this.curDone;
    const tag = this.curTag;
    this.curDone = null;
    this.busy = false;
    // Start the next item before the callback so work the callback submits queues behind it.
    if (this.qLen > 0) {
      const cap = this.qDur.length;
      const h = this.qHead;
      const d = this.qDur[h];
      const nd = this.qDone[h];
      const nt = this.qTag[h];
      this.qDone[h] = null;
      this.qHead = (h + 1) & (cap - 1);
      this.qLen--;
      this.start(d, nd, nt);
    }
    if (done !== null) done(tag, now);
  }

  /** Seconds this stream has spent running items, up to now. */
  get busySeconds(): number {
    return this.busyAcc + (this.busy ? this.sim.now - this.curStart : 0);
  }

  /** Items completed so far. */
  get completed(): number {
    return this._completed;
  }

  /** Items waiting behind the running one. */
  get queued(): number {
    return this.qLen;
  }

  /** True while an item is running. */
  get isBusy(): boolean {
    return this.busy;
  }

  private start(duration: number, onDone: DoneCallback | null, tag: number): void {
    this.busy = true;
    this.curStart = this.sim.now;
    this.curDone = onDone;
    this.curTag = tag;
    this.sim.scheduleProcess(duration, this, 0);
  }

  private grow(): void {
    const cap = this.qDur.length;
    const ncap = cap * 2;
    const dur = new Float64Array(ncap);
    const tags = new Int32Array(ncap);
    const done = new Array<DoneCallback | null>(ncap).fill(null);
    for (let k = 0; k < this.qLen; k++) {
      const j = (this.qHead + k) & (cap - 1);
      dur[k] = this.qDur[j];
      tags[k] = this.qTag[j];
      done[k] = this.qDone[j];
    }
    this.qDur = dur;
    this.qTag = tags;
    this.qDone = done;
    this.qHead = 0;
  }
}

// ---------------------------------------------------------------------------
// Pools for flows waiting out their latency before they start transferring.
// ---------------------------------------------------------------------------

/** Slot pool of flows in their latency phase; the owner is woken with the slot as tag. */
class PendingFlows {
  bytes: number[] = [];
  done: (DoneCallback | null)[] = [];
  tags: number[] = [];
  paths: (Int32Array | null)[] = [];
  private free: number[] = [];

  add(bytes: number, done: DoneCallback | null, tag: number, path: Int32Array | null): number {
    const slot = this.free.length > 0 ? this.free.pop()! : this.bytes.length;
    this.bytes[slot] = bytes;
    this.done[slot] = done;
    this.tags[slot] = tag;
    this.paths[slot] = path;
    return slot;
  }

  release(slot: number): void {
    this.done[slot] = null;
    this.paths[slot] = null;
    this.free.push(slot);
  }
}

/** Wake-up target for latency expiry, so the owner's own onSimEvent tags stay epochs. */
class LatencyJoiner implements SimProcess {
  constructor(private readonly owner: { joinPending(slot: number): void }) {}
  onSimEvent(tag: number): void {
    this.owner.joinPending(tag);
  }
}

// ---------------------------------------------------------------------------
// SharedLink
// ---------------------------------------------------------------------------

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
      const slot = this.pending.add(bytes, onDone, tag, null);
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

// ---------------------------------------------------------------------------
// Network (multi-link, max-min fair)
// ---------------------------------------------------------------------------

/** Per-link statistics of a Network. */
export interface LinkStats {
  name: string;
  bandwidthBytesPerSecond: number;
  /** Flows currently transferring across the link. */
  activeFlows: number;
  /** Sum of the current rates (bytes/s) of flows on the link. */
  allocatedBytesPerSecond: number;
  /** Bytes moved across the link so far. */
  bytesTransferred: number;
  /** Seconds during which at least one flow crossed the link. */
  busySeconds: number;
}

/**
 * Links with capacities and flows that each cross a set of links. Rates are the
 * max-min fair allocation (progressive filling): repeatedly find the link whose
 * remaining capacity divided by its unfrozen flows is smallest, give those flows
 * that share, and remove their usage from every link they cross.
 *
 * Rates are recomputed from scratch whenever a flow starts or ends
 * (O(bottleneck rounds x links + flows x path length)); fine for the hundreds of
 * concurrent flows of a step simulation. Wake-ups use the same one-tracked-
 * wake-up scheme as SharedLink.
 */
export class Network implements SimProcess {
  // Links.
  private capacity: number[] = [];
  private linkNames: string[] = [];
  private linkBytes: number[] = [];
  private linkBusy: number[] = [];
  private linkCount: number[] = []; // active flows per link
  private linkAlloc: number[] = [];
  // Scratch for progressive filling.
  private remCap: number[] = [];
  private unfrozen: number[] = [];
  private linkMark: number[] = [];
  private activeLinks: number[] = [];

  // Active flows, dense arrays indexed 0..nFlows-1 (swap-remove on completion).
  private fPath: Int32Array[] = [];
  private fRemaining: number[] = [];
  private fRate: number[] = [];
  private fDone: (DoneCallback | null)[] = [];
  private fTag: number[] = [];
  private fId: number[] = [];
  private fFrozen: Uint8Array = new Uint8Array(16);
  private nFlows = 0;
  private nextFlowId = 0;

  private readonly pending = new PendingFlows();
  private pendingIds: number[] = []; // flow id per pending slot
  private readonly joiner = new LatencyJoiner(this);
  private lastUpdate: number;
  private epoch = 0;
  private wakeAt = Infinity;
  private _completed = 0;
  private doneFns: (DoneCallback | null)[] = [];
  private doneTags: number[] = [];
  private dueIds: number[] = [];

  /** A network scheduling its flow completions on `sim`. */
  constructor(private readonly sim: ProcessScheduler) {
    this.lastUpdate = sim.now;
  }

  /** Add a link of `bandwidthBytesPerSecond` (> 0, finite); returns its id. */
  addLink(bandwidthBytesPerSecond: number, name: string = `link${this.capacity.length}`): number {
    if (!(bandwidthBytesPerSecond > 0 && bandwidthBytesPerSecond < Infinity)) {
      invariant(false, `Network.addLink: bandwidth must be finite bytes/s > 0, got ${bandwidthBytesPerSecond}`);
    }
    const id = this.capacity.length;
    this.capacity.push(bandwidthBytesPerSecond);
    this.linkNames.push(name);
    this.linkBytes.push(0);
    this.linkBusy.push(0);
    this.linkCount.push(0);
    this.linkAlloc.push(0);
    this.remCap.push(0);
    this.unfrozen.push(0);
    this.linkMark.push(0);
    return id;
  }

  /** Number of links. */
  get linkCountTotal(): number {
    return this.capacity.length;
  }

  /**
   * Start a flow of `bytes` across `links` (distinct link ids) after `latencySeconds`;
   * `onDone(tag, now)` runs when it completes. Returns the flow id (for flowRate()).
   */
  startFlow(
    links: ArrayLike<number>,
    bytes: number,
    onDone: DoneCallback | null = null,
    latencySeconds: number = 0,
    tag: number = 0,
  ): number {
    if (!(bytes >= 0 && bytes < Infinity)) invariant(false, `Network.startFlow: bytes must be finite >= 0, got ${bytes}`);
    if (!(latencySeconds >= 0 && latencySeconds < Infinity)) {
      invariant(false, `Network.startFlow: latency must be finite seconds >= 0, got ${latencySeconds}`);
    }
    checkTag(tag, 'Network.startFlow');
    invariant(links.length > 0, 'Network.startFlow: a flow must cross at least one link');
    const path = new Int32Array(links.length);
    for (let i = 0; i < links.length; i++) {
      const l = links[i];
      if (!((l | 0) === l && l >= 0 && l < this.capacity.length)) invariant(false, `Network.startFlow: unknown link id ${l}`);
      for (let j = 0; j < i; j++) if (path[j] === l) invariant(false, `Network.startFlow: link ${l} repeated in path`);
      path[i] = l;
    }
    const id = this.nextFlowId++;
    if (latencySeconds > 0) {
      const slot = this.pending.add(bytes, onDone, tag, path);
      this.pendingIds[slot] = id;
      this.sim.scheduleProcess(latencySeconds, this.joiner, slot);
    } else {
      this.join(path, bytes, onDone, tag, id);
    }
    return id;
  }

  /** @internal latency expired for a pending flow. */
  joinPending(slot: number): void {
    const p = this.pending;
    const path = p.paths[slot]!;
    const bytes = p.bytes[slot];
    const done = p.done[slot];
    const tag = p.tags[slot];
    const id = this.pendingIds[slot];
    p.release(slot);
    this.join(path, bytes, done, tag, id);
  }

  private join(path: Int32Array, bytes: number, onDone: DoneCallback | null, tag: number, id: number): void {
    this.advance();
    const k = this.nFlows++;
    this.fPath[k] = path;
    this.fRemaining[k] = bytes;
    this.fRate[k] = 0;
    this.fDone[k] = onDone;
    this.fTag[k] = tag;
    this.fId[k] = id;
    for (let i = 0; i < path.length; i++) this.linkCount[path[i]]++;
    this.reallocate();
    this.arm();
  }

  /** Engine wake-up (tag = epoch). */
  onSimEvent(tag: number): void {
    if (tag !== this.epoch) return;
    this.wakeAt = Infinity;
    this.advance();
    const now = this.sim.now;
    const eps = dueEpsilon(now);
    const fns = this.doneFns;
    const tags = this.doneTags;
    let k = 0;
    // Swap-removal scrambles flow order, so due flows are collected then sorted by id (start order).
    let i = 0;
    while (i < this.nFlows) {
      const rem = this.fRemaining[i];
      if (rem <= 0 || rem <= this.fRate[i] * eps) {
        fns[k] = this.fDone[i];
        tags[k] = this.fTag[i];
        this.dueIds[k] = this.fId[i];
        k++;
        this.removeFlow(i); // swaps the last flow into i: re-examine i
      } else {
        i++;
      }
    }
    if (k > 0) {
      this._completed += k;
      this.reallocate();
      if (k > 1) this.sortDue(k);
    }
    this.arm();
    for (let j = 0; j < k; j++) {
      const fn = fns[j];
      fns[j] = null;
      if (fn !== null) fn(tags[j], now);
    }
  }

  /** Insertion sort of the k due completions by flow id (k is small; keeps callback order deterministic and start-ordered). */
  private sortDue(k: number): void {
    const ids = this.dueIds;
    const fns = this.doneFns;
    const tags = this.doneTags;
    for (let a = 1; a < k; a++) {
      const id = ids[a];
      const fn = fns[a];
      const tg = tags[a];
      let b = a - 1;
      while (b >= 0 && ids[b] > id) {
        ids[b + 1] = ids[b];
        fns[b + 1] = fns[b];
        tags[b + 1] = tags[b];
        b--;
      }
      ids[b + 1] = id;
      fns[b + 1] = fn;
      tags[b + 1] = tg;
    }
  }

  private removeFlow(i: number): void {
    const path = this.fPath[i];
    for (let j = 0; j < path.length; j++) this.linkCount[path[j]]--;
    const last = --this.nFlows;
    if (i !== last) {
      this.fPath[i] = this.fPath[last];
      this.fRemaining[i] = this.fRemaining[last];
      this.fRate[i] = this.fRate[last];
      this.fDone[i] = this.fDone[last];
      this.fTag[i] = this.fTag[last];
      this.fId[i] = this.fId[last];
    }
    this.fDone[last] = null;
  }

  /** Flows currently transferring (excluding ones in their latency phase). */
  get activeFlows(): number {
    return this.nFlows;
  }

  /** Flows completed so far. */
  get completedFlows(): number {
    return this._completed;
  }

  /** Current rate (bytes/s) of flow `flowId`, or 0 if it is not transferring (latency phase or done). */
  flowRate(flowId: number): number {
    for (let i = 0; i < this.nFlows; i++) if (this.fId[i] === flowId) return this.fRate[i];
    return 0;
  }

  /** Statistics of link `linkId`, up to now. */
  linkStats(linkId: number): LinkStats {
    if (!(linkId >= 0 && linkId < this.capacity.length)) invariant(false, `Network.linkStats: unknown link ${linkId}`);
    const dt = this.sim.now - this.lastUpdate;
    const busy = this.linkCount[linkId] > 0;
    return {
      name: this.linkNames[linkId],
      bandwidthBytesPerSecond: this.capacity[linkId],
      activeFlows: this.linkCount[linkId],
      allocatedBytesPerSecond: this.linkAlloc[linkId],
      bytesTransferred: this.linkBytes[linkId] + (busy ? dt * this.linkAlloc[linkId] : 0),
      busySeconds: this.linkBusy[linkId] + (busy ? dt : 0),
    };
  }

  /** Bring remaining bytes and link statistics up to the engine clock. */
  private advance(): void {
    const now = this.sim.now;
    const dt = now - this.lastUpdate;
    this.lastUpdate = now;
    if (dt <= 0 || this.nFlows === 0) return;
    for (let i = 0; i < this.nFlows; i++) this.fRemaining[i] -= this.fRate[i] * dt;
    const links = this.activeLinks;
    for (let j = 0; j < links.length; j++) {
      const l = links[j];
      this.linkBusy[l] += dt;
      this.linkBytes[l] += this.linkAlloc[l] * dt;
    }
  }

  /** Max-min fair rates by progressive filling. */
  private reallocate(): void {
    const n = this.nFlows;
    const remCap = this.remCap;
    const unfrozen = this.unfrozen;
    const mark = this.linkMark;
    const alloc = this.linkAlloc;
    const links = this.activeLinks;
    // Reset the previous active set, then rebuild it from the current flows.
    for (let j = 0; j < links.length; j++) {
      alloc[links[j]] = 0;
      mark[links[j]] = 0;
    }
    links.length = 0;
    if (this.fFrozen.length < n) this.fFrozen = new Uint8Array(Math.max(n, this.fFrozen.length * 2));
    const frozen = this.fFrozen;
    for (let i = 0; i < n; i++) {
      frozen[i] = 0;
      const path = this.fPath[i];
      for (let j = 0; j < path.length; j++) {
        const l = path[j];
        if (mark[l] === 0) {
          mark[l] = 1;
          links.push(l);
          remCap[l] = this.capacity[l];
          unfrozen[l] = 0;
        }
        unfrozen[l]++;
      }
    }
    let left = n;
    while (left > 0) {
      // Bottleneck: smallest fair share among links that still carry unfrozen flows
      // (ties go to the lowest link id, for determinism independent of flow order).
      let best = -1;
      let bestShare = Infinity;
      for (let j = 0; j < links.length; j++) {
        const l = links[j];
        const u = unfrozen[l];
        if (u === 0) continue;
        const share = Math.max(0, remCap[l]) / u;
        if (share < bestShare || (share === bestShare && l < best)) {
          bestShare = share;
          best = l;
        }
      }
      // Freeze every unfrozen flow crossing the bottleneck at that share.
      for (let i = 0; i < n; i++) {
        if (frozen[i] !== 0) continue;
        const path = this.fPath[i];
        let crosses = false;
        for (let j = 0; j < path.length; j++) {
          if (path[j] === best) {
            crosses = true;
            break;
          }
        }
        if (!crosses) continue;
        frozen[i] = 1;
        left--;
        this.fRate[i] = bestShare;
        for (let j = 0; j < path.length; j++) {
          const l = path[j];
          remCap[l] -= bestShare;
          unfrozen[l]--;
          alloc[l] += bestShare;
        }
      }
    }
  }

  /** Make sure a wake-up is scheduled no later than the next completion. */
  private arm(): void {
    const n = this.nFlows;
    if (n === 0) return;
    let minDt = Infinity;
    for (let i = 0; i < n; i++) {
      const rem = this.fRemaining[i];
      const dt = rem > 0 ? rem / this.fRate[i] : 0;
      if (dt < minDt) minDt = dt;
    }
    // A zero rate would mean a flow never finishes: progressive filling must not produce one.
    invariant(minDt < Infinity, 'Network: a flow was allocated zero bandwidth');
    const now = this.sim.now;
    let t = now + minDt;
    if (!(t >= now)) t = now;
    if (t < this.wakeAt) {
      this.epoch = (this.epoch + 1) & 0x3fffffff;
      this.wakeAt = t;
      this.sim.scheduleProcessAt(t, this, this.epoch);
    }
  }
}
