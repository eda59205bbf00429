/**
 * Generic discrete-event simulation engine.
 *
 * Events are values of a user-defined type E (typically a discriminated union)
 * dispatched to one handler given at construction. Resources (streams, links)
 * need wake-ups of their own without widening E, so the engine also queues
 * "process" wake-ups: an object with onSimEvent(tag) plus an int32 tag. Both
 * kinds share one heap and one ordering, so determinism covers them together.
 *
 * The loop is synchronous and allocates nothing per event: the heap stores keys
 * in typed arrays and the popped keys are read back from fields.
 */

import { EventHeap } from './heap.js';
import { invariant } from './invariant.js';

/** Handler called for every user event, with the clock already advanced to the event's time. */
export type EventHandler<E> = (sim: Simulation<E>, event: E) => void;

/** Something the engine can wake up; `tag` is the int32 given when the wake-up was scheduled. */
export interface SimProcess {
  onSimEvent(tag: number): void;
}

/**
 * The part of the engine that resources need: the clock, process wake-ups and cancellation.
 * Resources take this instead of Simulation<E> so they work with any event type E.
 */
export interface ProcessScheduler {
  readonly now: number;
  scheduleProcess(delaySeconds: number, process: SimProcess, tag?: number, priority?: number): number;
  scheduleProcessAt(timeSeconds: number, process: SimProcess, tag?: number, priority?: number): number;
  cancel(id: number): boolean;
}

export interface RunOptions {
  /** Process events with time <= until (seconds), then set the clock to `until`. */
  until?: number;
  /** Stop after handling this many events in this call. */
  maxEvents?: number;
}

/** Why run() returned. */
export type StopReason = 'empty' | 'until' | 'maxEvents' | 'stopped';

export interface RunResult {
  /** Events handled during this run() call (cancelled entries are not counted). */
  events: number;
  /** Clock (seconds) when run() returned. */
  timeSeconds: number;
  /** True when the run ended early, via stop() or maxEvents, with events still due. */
  stopped: boolean;
  reason: StopReason;
}

// Heap tag marking a user event; process tags are restricted to >= 0.
const USER_EVENT = -1;

export class Simulation<E> implements ProcessScheduler {
  private readonly heap = new EventHeap<unknown>();
  // Lazily cancelled ids: entries stay in the heap and are skipped when popped.
  private readonly cancelled = new Set<number>();
  private _now = 0;
  private stopRequested = false;
  private running = false;
  private _eventsHandled = 0;

  /** Create a simulation whose user events are all delivered to `handler`. */
  constructor(private readonly handler: EventHandler<E>) {}

  /** Current simulated time in seconds. */
  get now(): number {
    return this._now;
  }

  /** Total events handled over the simulation's lifetime. */
  get eventsHandled(): number {
    return this._eventsHandled;
  }

  /** Queued entries, including cancelled ones not yet skipped (an upper bound on pending events). */
  get queued(): number {
    return this.heap.size;
  }

  /** True while run() is executing. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Schedule `event` after `delaySeconds` (>= 0); lower `priority` runs first at equal times. Returns an id for cancel(). */
  schedule(delaySeconds: number, event: E, priority: number = 0): number {
    if (!(delaySeconds >= 0 && delaySeconds < Infinity)) {
      invariant(false, `schedule: delay must be a finite number of seconds >= 0, got ${delaySeconds}`);
    }
    if ((priority | 0) !== priority) invariant(false, `schedule: priority must be an int32, got ${priority}`);
    return this.heap.push(this._now + delaySeconds, priority, event, USER_EVENT);
  }

  /** Schedule `event` at absolute time `timeSeconds` (>= now). Returns an id for cancel(). */
  scheduleAt(timeSeconds: number, event: E, priority: number = 0): number {
    if (!(timeSeconds >= this._now && timeSeconds < Infinity)) {
      invariant(false, `scheduleAt: time ${timeSeconds} s is in the past (now ${this._now} s), NaN or infinite`);
    }
    if ((priority | 0) !== priority) invariant(false, `scheduleAt: priority must be an int32, got ${priority}`);
    return this.heap.push(timeSeconds, priority, event, USER_EVENT);
  }

  /** Wake `process.onSimEvent(tag)` after `delaySeconds`; `tag` is an int32 >= 0. Returns an id for cancel(). */
  scheduleProcess(delaySeconds: number, process: SimProcess, tag: number = 0, priority: number = 0): number {
    if (!(delaySeconds >= 0 && delaySeconds < Infinity)) {
      invariant(false, `scheduleProcess: delay must be a finite number of seconds >= 0, got ${delaySeconds}`);
    }
    return this.pushProcess(this._now + delaySeconds, process, tag, priority);
  }

  /** Wake `process.onSimEvent(tag)` at absolute time `timeSeconds` (>= now). Returns an id for cancel(). */
  scheduleProcessAt(timeSeconds: number, process: SimProcess, tag: number = 0, priority: number = 0): number {
    if (!(timeSeconds >= this._now && timeSeconds < Infinity)) {
      invariant(false, `scheduleProcessAt: time ${timeSeconds} s is in the past (now ${this._now} s), NaN or infinite`);
    }
    return this.pushProcess(timeSeconds, process, tag, priority);
  }

  private pushProcess(time: number, process: SimProcess, tag: number, priority: number): number {
    if (!((tag | 0) === tag && tag >= 0)) invariant(false, `process tag must be an int32 >= 0, got ${tag}`);
    if ((priority | 0) !== priority) invariant(false, `priority must be an int32, got ${priority}`);
    return this.heap.push(time, priority, process, tag);
  }

  /**
   * Cancel a scheduled event by id. Returns false if the id was never issued or is already cancelled;
   * cancelling an event that already fired is a harmless no-op (returns true: fired ids are not tracked).
   */
  cancel(id: number): boolean {
    if (!(Number.isInteger(id) && id >= 0 && id < this.heap.nextSequence)) return false;
    const cancelled = this.cancelled;
    if (cancelled.has(id)) return false;
    cancelled.add(id);
    // Ids of already-fired events can linger in the set. A live cancelled id is always still
    // in the heap, so a set much larger than the heap is mostly garbage: prune it. The slack
    // (2x + 32) keeps pruning amortised O(1) per cancel.
    if (cancelled.size > 2 * this.heap.size + 32) this.pruneCancelled();
    return true;
  }

  /** Ask the running loop to return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Drop all pending events and rewind the clock to 0 (resources built on this simulation must be recreated). */
  reset(): void {
    invariant(!this.running, 'reset: cannot reset a running simulation');
    this.heap.clear();
    this.cancelled.clear();
    this._now = 0;
    this.stopRequested = false;
  }

  /** Time (seconds) of the next queued entry (possibly a cancelled one), or +Infinity. */
  peekTime(): number {
    return this.heap.peekTime();
  }

  /** Process events in (time, priority, insertion) order until the queue empties, `until`, `maxEvents` or stop(). */
  run(options: RunOptions = {}): RunResult {
    invariant(!this.running, 'run: simulation is already running (run() is not re-entrant)');
    const until = options.until ?? Infinity;
    const maxEvents = options.maxEvents ?? Infinity;
    if (!(until >= this._now)) invariant(false, `run: until ${until} s is before now ${this._now} s or NaN`);
    if (!(maxEvents >= 0)) invariant(false, `run: maxEvents must be >= 0, got ${maxEvents}`);

    const heap = this.heap;
    const cancelled = this.cancelled;
    const handler = this.handler;
    let events = 0;
    let reason: StopReason = 'empty';
    this.stopRequested = false;
    this.running = true;
    try {
      while (heap.size > 0) {
        if (heap.peekTime() > until) {
          reason = 'until';
          break;
        }
        if (events >= maxEvents) {
          // Only an early stop if something is actually still due.
          if (this.skipCancelledHead() && heap.peekTime() <= until) {
            reason = 'maxEvents';
            break;
          }
          continue;
        }
        const payload = heap.pop();
        if (cancelled.size !== 0 && cancelled.delete(heap.lastSeq)) continue;
        this._now = heap.lastTime;
        const tag = heap.lastTag;
        if (tag === USER_EVENT) handler(this, payload as E);
        else (payload as SimProcess).onSimEvent(tag);
        events++;
        if (this.stopRequested) {
          reason = 'stopped';
          break;
        }
      }
    } finally {
      this.running = false;
      this._eventsHandled += events;
    }
    if ((reason === 'until' || reason === 'empty') && until !== Infinity && until > this._now) {
      // Advancing to `until` lets callers run in fixed windows and read a consistent clock.
      this._now = until;
    }
    if (cancelled.size > 2 * heap.size + 32) this.pruneCancelled();
    const stopped = reason === 'stopped' || reason === 'maxEvents';
    return { events, timeSeconds: this._now, stopped, reason };
  }

  /** Pop cancelled entries off the head; returns true if a live entry remains. */
  private skipCancelledHead(): boolean {
    const heap = this.heap;
    const cancelled = this.cancelled;
    while (heap.size > 0) {
      if (cancelled.size === 0 || !cancelled.has(heap.peekSeq())) return true;
      cancelled.delete(heap.peekSeq());
      heap.pop();
    }
    return false;
  }

  private pruneCancelled(): void {
    const cancelled = this.cancelled;
    if (this.heap.size === 0) {
      cancelled.clear();
      return;
    }
    const live = new Set<number>();
    this.heap.forEachSeq((seq) => {
      if (cancelled.has(seq)) live.add(seq);
    });
    cancelled.clear();
    for (const id of live) cancelled.add(id);
  }
}
