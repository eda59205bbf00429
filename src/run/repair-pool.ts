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

/** A min-heap of repairs by return time, each with its node count (typed arrays, no allocation per entry). */
class ReturnHeap {
  private times = new Float64Array(16);
  private nodes = new Int32Array(16);
  size = 0;

  /** Earliest return time, or +Infinity when empty. */
  peekTime(): number {
    return this.size > 0 ? this.times[0] : Infinity;
  }

  /** Nodes of the earliest return. */
  peekNodes(): number {
    return this.nodes[0];
  }

  push(time: number, nodes: number): void {
    if (this.size === this.times.length) {
      const t = new Float64Array(2 * this.size);
      t.set(this.times);
      const n = new Int32Array(2 * this.size);
      n.set(this.nodes);
      [this.times, this.nodes] = [t, n];
    }
    const times = this.times;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      this.nodes[i] = this.nodes[parent];
      i = parent;
    }
    times[i] = time;
    this.nodes[i] = nodes;
  }

  /** Appends each entry as (return time − `now`, nodes) to `out`. */
  collect(out: number[], now: number): void {
    for (let i = 0; i < this.size; i++) out.push(this.times[i] - now, this.nodes[i]);
  }

  /** Removes the earliest return (the heap must not be empty). */
  pop(): void {
    const last = --this.size;
    const times = this.times;
    const nodes = this.nodes;
    const t = times[last];
    const n = nodes[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && times[c + 1] < times[c]) c++;
      if (t <= times[c]) break;
      times[i] = times[c];
      nodes[i] = nodes[c];
      i = c;
    }
    times[i] = t;
    nodes[i] = n;
  }
}

export class RepairPool {
  /** The latest repairs, as few as still exceed the spares (all of them when they do not). */
  private readonly latest = new ReturnHeap();
  private latestNodes = 0;
  /** Repairs that return before every entry of `latest`; empty unless `latest` exceeds the spares. */
  private readonly earlier = new ReturnHeap();
  /** Nodes out for repair now. */
  nodesOut = 0;

  constructor(private readonly spareNodes: number) {}

  /** Sends `nodes` nodes to repair until `backSeconds`. */
  send(backSeconds: number, nodes: number): void {
    this.nodesOut += nodes;
    const latest = this.latest;
    if (this.latestNodes > this.spareNodes && backSeconds <= latest.peekTime()) {
      this.earlier.push(backSeconds, nodes);
      return;
    }
    latest.push(backSeconds, nodes);
    this.latestNodes += nodes;
    // Hand the earliest of `latest` down while the others alone still exceed the spares.
    while (latest.size > 1 && this.latestNodes - latest.peekNodes() > this.spareNodes) {
      const n = latest.peekNodes();
      this.earlier.push(latest.peekTime(), n);
      latest.pop();
      this.latestNodes -= n;
    }
  }

  /** Returns to the pool every repair done by `now`. */
  returnRepaired(now: number): void {
    const earlier = this.earlier;
    while (earlier.peekTime() <= now) {
      this.nodesOut -= earlier.peekNodes();
      earlier.pop();
    }
    // `latest` returns only once `earlier` is empty (its entries are all later).
    const latest = this.latest;
    while (latest.peekTime() <= now) {
      this.nodesOut -= latest.peekNodes();
      this.latestNodes -= latest.peekNodes();
      latest.pop();
    }
  }

  /** Repairs still out after `now`, as (seconds until back, nodes) pairs (a programme's next stage starts with them). */
  pending(now: number): number[] {
    this.returnRepaired(now);
    const out: number[] = [];
    this.earlier.collect(out, now);
    this.latest.collect(out, now);
    return out;
  }

  /** Earliest time from `now` at which the nodes out for repair fit in the spare pool. */
  readyTime(now: number): number {
    this.returnRepaired(now);
    return this.latestNodes > this.spareNodes ? this.latest.peekTime() : now;
  }
}
