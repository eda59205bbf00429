/**
 * Binary min-heap event queue ordered by (time, priority, sequence).
 *
 * Layout is struct-of-arrays (typed arrays for the keys, one plain array for
 * payloads) so that sifting touches contiguous unboxed numbers and never
 * allocates. The sequence number is an insertion counter, which makes ties at
 * equal (time, priority) pop in FIFO order and keeps runs deterministic.
 */

const INITIAL_CAPACITY = 64;

export class EventHeap<T> {
  private times: Float64Array;
  private prios: Int32Array;
  // Float64 rather than Int32 so the counter cannot wrap on very long runs (exact to 2^53).
  private seqs: Float64Array;
  // Opaque int32 carried alongside each entry; the engine uses it to tell user events from process wake-ups.
  private tags: Int32Array;
  private payloads: (T | undefined)[];
  private n = 0;
  private nextSeq = 0;

  /** Time (seconds) of the entry returned by the last pop(). */
  lastTime = 0;
  /** Priority of the entry returned by the last pop(). */
  lastPriority = 0;
  /** Sequence number of the entry returned by the last pop(). */
  lastSeq = -1;
  /** Tag of the entry returned by the last pop(). */
  lastTag = 0;

  constructor(initialCapacity: number = INITIAL_CAPACITY) {
    const cap = Math.max(4, initialCapacity | 0);
    this.times = new Float64Array(cap);
    this.prios = new Int32Array(cap);
    this.seqs = new Float64Array(cap);
    this.tags = new Int32Array(cap);
    this.payloads = [];
    for (let i = 0; i < cap; i++) this.payloads.push(undefined);
  }

  /** Number of entries currently queued. */
  get size(): number {
    return this.n;
  }

  /** Sequence number the next push() will return. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  /** Insert an entry at `time` (seconds) with int32 `priority` (lower first); returns its sequence number. */
  push(time: number, priority: number, payload: T, tag: number = 0): number {
    if (this.n === this.times.length) this.grow();
    const times = this.times;
    const prios = this.prios;
    const seqs = this.seqs;
    const tags = this.tags;
    const payloads = this.payloads;
    const seq = this.nextSeq++;
    let i = this.n++;
    // Sift the hole up. The new seq is the largest ever issued, so an equal
    // (time, priority) parent always stays above: compare on (time, priority) only.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p];
      if (pt < time || (pt === time && prios[p] <= priority)) break;
      times[i] = pt;
      prios[i] = prios[p];
      seqs[i] = seqs[p];
      tags[i] = tags[p];
      payloads[i] = payloads[p];
      i = p;
    }
    times[i] = time;
    prios[i] = priority;
    seqs[i] = seq;
    tags[i] = tag;
    payloads[i] = payload;
    return seq;
  }

  /** Time (seconds) of the earliest entry, or +Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.times[0] : Infinity;
  }

  /** Sequence number of the earliest entry, or -1 when empty. */
  peekSeq(): number {
    return this.n > 0 ? this.seqs[0] : -1;
  }

  /**
   * Remove and return the earliest entry's payload (undefined when empty).
   * Its keys are left in lastTime / lastPriority / lastSeq / lastTag so no tuple is allocated.
   */
  pop(): T | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    const times = this.times;
    const prios = this.prios;
    const seqs = this.seqs;
    const tags = this.tags;
    const payloads = this.payloads;
    const top = payloads[0];
    this.lastTime = times[0];
    this.lastPriority = prios[0];
    this.lastSeq = seqs[0];
    this.lastTag = tags[0];

    const last = n - 1;
    this.n = last;
    if (last === 0) {
      payloads[0] = undefined;
      return top;
    }
    // Move the last entry into the root hole and sift it down.
    const t = times[last];
    const pr = prios[last];
    const sq = seqs[last];
    const tg = tags[last];
    const pl = payloads[last];
    payloads[last] = undefined; // release the reference for the GC
    let i = 0;
    const half = last >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      let ct = times[c];
      let cp = prios[c];
      let cs = seqs[c];
      const r = c + 1;
      if (r < last) {
        const rt = times[r];
        if (rt < ct || (rt === ct && (prios[r] < cp || (prios[r] === cp && seqs[r] < cs)))) {
          c = r;
          ct = rt;
          cp = prios[r];
          cs = seqs[r];
        }
      }
      if (t < ct || (t === ct && (pr < cp || (pr === cp && sq < cs)))) break;
      times[i] = ct;
      prios[i] = cp;
      seqs[i] = cs;
      tags[i] = tags[c];
      payloads[i] = payloads[c];
      i = c;
    }
    times[i] = t;
    prios[i] = pr;
    seqs[i] = sq;
    tags[i] = tg;
    payloads[i] = pl;
    return top;
  }

  /** Remove every entry (the sequence counter keeps counting so ids stay unique). */
  clear(): void {
    const payloads = this.payloads;
    for (let i = 0; i < this.n; i++) payloads[i] = undefined;
    this.n = 0;
  }

  /** Call `fn(seq)` for every queued entry, in heap (not time) order. */
  forEachSeq(fn: (seq: number) => void): void {
    for (let i = 0; i < this.n; i++) fn(this.seqs[i]);
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const times = new Float64Array(cap);
    times.set(this.times);
    const prios = new Int32Array(cap);
    prios.set(this.prios);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    const tags = new Int32Array(cap);
    tags.set(this.tags);
    this.times = times;
    this.prios = prios;
    this.seqs = seqs;
    this.tags = tags;
    const payloads = this.payloads;
    // push (not length=) keeps the array packed, which V8 handles faster.
    while (payloads.length < cap) payloads.push(undefined);
  }
}
