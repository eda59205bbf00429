/**
 * Nodes out for repair and the spare pool that covers them, at a cost per event that does not
 * grow with the repair queue.
 *
 * A restart needs the earliest time at which the nodes still out fit in the spare pool. That
 * time depends only on the latest returns: sorted by return time from the latest down, it is
 * the return of the node that takes the count past the spares. So the queue is kept as two
 * min-heaps by return time: `latest`, the fewest latest repairs whose nodes exceed the spares
 * (the answer is its earliest entry), and `earlier`, the rest. A fault pushes one repair and
 * moves at most a few entries between them; returns pop the earliest. Every operation is
 * O(log queue), where a scan of the whole queue at each interruption made a run with repairs
 * piling up quadratic (issue 11).
 */
import { EventHeap } from '../sim/index.js';

export class RepairPool {
  /** The latest repairs, as few as still exceed the spares (all of them when they do not). */
  private readonly latest = new EventHeap<undefined>(16);
  private latestNodes = 0;
  /** Repairs that return before every entry of `latest`; empty unless `latest` exceeds the spares. */
  private readonly earlier = new EventHeap<undefined>(16);
  /** Nodes out for repair now. */
  nodesOut = 0;

  constructor(private readonly spareNodes: number) {}

  /** Sends `nodes` nodes to repair until `backSeconds`. */
  send(backSeconds: number, nodes: number): void {
    this.nodesOut += nodes;
    const latest = this.latest;
    if (this.latestNodes > this.spareNodes && backSeconds <= latest.peekTime()) {
      this.earlier.push(backSeconds, 0, undefined, nodes);
      return;
    }
    latest.push(backSeconds, 0, undefined, nodes);
    this.latestNodes += nodes;
    // Hand the earliest of `latest` down while the others alone still exceed the spares.
    while (latest.size > 1) {
      latest.pop();
      const time = latest.lastTime;
      const n = latest.lastTag;
      if (this.latestNodes - n <= this.spareNodes) {
        latest.push(time, 0, undefined, n);
        break;
      }
      this.latestNodes -= n;
      this.earlier.push(time, 0, undefined, n);
    }
  }

  /** Returns to the pool every repair done by `now`. */
  returnRepaired(now: number): void {
    const earlier = this.earlier;
    while (earlier.size > 0 && earlier.peekTime() <= now) {
      earlier.pop();
      this.nodesOut -= earlier.lastTag;
    }
    // `latest` returns only once `earlier` is empty (its entries are all later).
    const latest = this.latest;
    while (latest.size > 0 && latest.peekTime() <= now) {
      latest.pop();
      this.nodesOut -= latest.lastTag;
      this.latestNodes -= latest.lastTag;
    }
  }

  /** Earliest time from `now` at which the nodes out for repair fit in the spare pool. */
  readyTime(now: number): number {
    this.returnRepaired(now);
    return this.latestNodes > this.spareNodes ? this.latest.peekTime() : now;
  }
}
