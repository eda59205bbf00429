import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Simulation, FifoStream, SharedLink, Network, createRng } from '../../src/sim/index.js';

const GB = 1e9;

/** A simulation whose user events are callbacks, for tests that need "at time t, do x". */
function newSim() {
  return new Simulation<() => void>((_s, fn) => fn());
}

describe('FifoStream', () => {
  it('serialises work in submission order and reports busy time', () => {
    const sim = newSim();
    const stream = new FifoStream(sim, 'compute');
    const done: string[] = [];
    const cb = (tag: number, now: number) => done.push(`${tag}@${now}`);
    stream.submit(1, cb, 1);
    stream.submit(2, cb, 2);
    stream.submit(3, cb, 3);
    expect(stream.queued).toBe(2);
    expect(stream.isBusy).toBe(true);
    sim.run({ until: 2 });
    expect(stream.busySeconds).toBe(2); // includes the running item
    sim.run();
    expect(done).toEqual(['1@1', '2@3', '3@6']);
    // Idle gap: work submitted at t=10 starts at once.
    sim.scheduleAt(10, () => stream.submit(0.5, cb, 4));
    sim.run();
    expect(done[3]).toBe('4@10.5');
    expect(stream.busySeconds).toBe(6.5);
    expect(stream.completed).toBe(4);
    expect(stream.isBusy).toBe(false);
  });

  it('queues work submitted from a completion callback behind already-queued work', () => {
    const sim = newSim();
    const stream = new FifoStream(sim);
    const done: number[] = [];
    stream.submit(1, (tag) => {
      done.push(tag);
      stream.submit(1, (t) => done.push(t), 3);
    }, 1);
    stream.submit(1, (tag) => done.push(tag), 2);
    sim.run();
    expect(done).toEqual([1, 2, 3]);
    expect(sim.now).toBe(3);
  });

  it('handles many queued items (ring buffer growth) and zero durations', () => {
    const sim = newSim();
    const stream = new FifoStream(sim);
    const order: number[] = [];
    for (let i = 0; i < 100; i++) stream.submit(i % 3 === 0 ? 0 : 0.25, (t) => order.push(t), i);
    sim.run();
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(sim.now).toBeCloseTo(66 * 0.25, 12);
    expect(stream.busySeconds).toBeCloseTo(66 * 0.25, 12);
  });

  it('rejects negative or NaN durations', () => {
    const stream = new FifoStream(newSim());
    expect(() => stream.submit(-1)).toThrow(/duration/);
    expect(() => stream.submit(NaN)).toThrow(/duration/);
  });
});

describe('SharedLink', () => {
  it('gives two equal concurrent flows half the bandwidth each', () => {
    const sim = newSim();
    const link = new SharedLink(sim, 1 * GB);
    const done: string[] = [];
    link.startFlow(1 * GB, (tag, now) => done.push(`${tag}@${now}`), 0, 1);
    link.startFlow(1 * GB, (tag, now) => done.push(`${tag}@${now}`), 0, 2);
    expect(link.perFlowRate).toBe(0.5 * GB);
    sim.run();
    expect(done).toEqual(['1@2', '2@2']);
    expect(link.busySeconds).toBe(2);
    expect(link.bytesTransferred).toBe(2 * GB);
    expect(link.activeFlows).toBe(0);
    expect(link.completedFlows).toBe(2);
  });

  it('recomputes rates when a flow joins later (hand-computed)', () => {
    // 1 GB/s link. A = 1 GB at t=0, B = 0.25 GB at t=0.5.
    // [0, 0.5): A alone at 1 GB/s -> A has 0.5 GB left.
    // From 0.5: both at 0.5 GB/s -> B done at 0.5 + 0.25/0.5 = 1.0; A has 0.25 GB left.
    // From 1.0: A alone again -> done at 1.25.
    const sim = newSim();
    const link = new SharedLink(sim, 1 * GB);
    const t: Record<string, number> = {};
    link.startFlow(1 * GB, (_tag, now) => (t.A = now));
    sim.scheduleAt(0.5, () => link.startFlow(0.25 * GB, (_tag, now) => (t.B = now)));
    sim.run();
    expect(t.B).toBeCloseTo(1.0, 12);
    expect(t.A).toBeCloseTo(1.25, 12);
    expect(link.busySeconds).toBeCloseTo(1.25, 12);
    expect(link.bytesTransferred).toBeCloseTo(1.25 * GB, 0);
  });

  it('recomputes rates for a later equal flow (hand-computed)', () => {
    // A = 1 GB at 0, B = 1 GB at 0.5: A has 0.5 GB left at 0.5; shared at 0.5 GB/s A ends at 1.5
    // (B has moved 0.5 GB); B alone moves its last 0.5 GB by 2.0.
    const sim = newSim();
    const link = new SharedLink(sim, 1 * GB);
    const t: Record<string, number> = {};
    link.startFlow(1 * GB, (_tag, now) => (t.A = now));
    sim.scheduleAt(0.5, () => link.startFlow(1 * GB, (_tag, now) => (t.B = now)));
    sim.run();
    expect(t.A).toBeCloseTo(1.5, 12);
    expect(t.B).toBeCloseTo(2.0, 12);
  });

  it('adds latency before a flow starts sharing the link', () => {
    // A = 1 GB at 0 (no latency); B = 0.5 GB at 0 with 0.5 s latency: joins at 0.5 when A has 0.5 GB left.
    // Both at 0.5 GB/s from 0.5 -> both done at 1.5.
    const sim = newSim();
    const link = new SharedLink(sim, 1 * GB);
    const t: Record<string, number> = {};
    link.startFlow(1 * GB, (_tag, now) => (t.A = now));
    link.startFlow(0.5 * GB, (_tag, now) => (t.B = now), 0.5);
    expect(link.activeFlows).toBe(1);
    sim.run();
    expect(t.A).toBeCloseTo(1.5, 12);
    expect(t.B).toBeCloseTo(1.5, 12);
    expect(link.busySeconds).toBeCloseTo(1.5, 12);
  });

  it('completes zero-byte flows and flows started from completion callbacks', () => {
    const sim = newSim();
    const link = new SharedLink(sim, 100);
    const t: number[] = [];
    link.startFlow(0, (_tag, now) => {
      t.push(now);
      link.startFlow(100, (_t2, now2) => t.push(now2));
    });
    sim.run();
    expect(t).toEqual([0, 1]);
  });

  it('does not pile stale wake-ups into the engine heap when arrivals only delay completions', () => {
    // Each arrival slows every flow down, so the earliest completion moves later: the link
    // keeps its earlier wake-up instead of queueing a new one per change.
    const sim = newSim();
    const link = new SharedLink(sim, 1 * GB);
    let done = 0;
    link.startFlow(1 * GB, () => done++);
    let arrivals = 0;
    const arrive = () => {
      link.startFlow(10 * GB, () => done++);
      if (++arrivals < 1000) sim.schedule(1e-4, arrive); // one pending arrival at a time
    };
    sim.schedule(1e-4, arrive);
    let maxQueued = 0;
    while (sim.queued > 0) {
      sim.run({ maxEvents: 1 });
      maxQueued = Math.max(maxQueued, sim.queued);
    }
    expect(done).toBe(1001);
    expect(maxQueued).toBeLessThan(10);
  });
});

describe('Network (max-min fair)', () => {
  it('computes the max-min allocation (hand-computed) and finishing times', () => {
    // L0 = 10 B/s, L1 = 4 B/s. A: L0. B: L0+L1. C, D: L1.
    // L1 is the bottleneck: B = C = D = 4/3. A takes the rest of L0: 10 - 4/3 = 26/3.
    // Bytes: A 26, B 4, C 4, D 8 -> A, B, C finish at t=3; D then has 4 B left alone on L1 at 4 B/s -> t=4.
    const sim = newSim();
    const net = new Network(sim);
    const l0 = net.addLink(10, 'L0');
    const l1 = net.addLink(4, 'L1');
    const t: Record<string, number> = {};
    const order: number[] = [];
    const cb = (tag: number, now: number) => {
      order.push(tag);
      t['ABCD'[tag]] = now;
    };
    const a = net.startFlow([l0], 26, cb, 0, 0);
    const b = net.startFlow([l0, l1], 4, cb, 0, 1);
    const c = net.startFlow([l1], 4, cb, 0, 2);
    const d = net.startFlow([l1], 8, cb, 0, 3);
    expect(net.flowRate(a)).toBeCloseTo(26 / 3, 12);
    expect(net.flowRate(b)).toBeCloseTo(4 / 3, 12);
    expect(net.flowRate(c)).toBeCloseTo(4 / 3, 12);
    expect(net.flowRate(d)).toBeCloseTo(4 / 3, 12);
    sim.scheduleAt(3.5, () => expect(net.flowRate(d)).toBeCloseTo(4, 12));
    sim.run();
    expect(t.A).toBeCloseTo(3, 12);
    expect(t.B).toBeCloseTo(3, 12);
    expect(t.C).toBeCloseTo(3, 12);
    expect(t.D).toBeCloseTo(4, 12);
    expect(order).toEqual([0, 1, 2, 3]); // simultaneous completions in start order
    const s1 = net.linkStats(l1);
    expect(s1.bytesTransferred).toBeCloseTo(16, 9);
    expect(s1.busySeconds).toBeCloseTo(4, 12);
    const s0 = net.linkStats(l0);
    expect(s0.bytesTransferred).toBeCloseTo(30, 9);
    expect(s0.busySeconds).toBeCloseTo(3, 12);
  });

  it('models two groups sharing a NIC and an oversubscribed tier', () => {
    // NIC0 and NIC1 at 50 GB/s; spine at 50 GB/s shared by cross-rack traffic.
    // Group X: NIC0 -> spine (cross-rack). Group Y: NIC0 local (NIC only). Group Z: NIC1 -> spine.
    // NIC0: X, Y -> 25 each; spine: X, Z -> 25 each. Bottleneck tie at 25: X = Y = Z = 25 GB/s.
    // After Y (25 GB) ends at t=1, X and Z are limited by the spine: still 25 each.
    const sim = newSim();
    const net = new Network(sim);
    const nic0 = net.addLink(50 * GB, 'nic0');
    const nic1 = net.addLink(50 * GB, 'nic1');
    const spine = net.addLink(50 * GB, 'spine');
    const t: number[] = [];
    const cb = (tag: number, now: number) => (t[tag] = now);
    const x = net.startFlow([nic0, spine], 50 * GB, cb, 0, 0);
    const y = net.startFlow([nic0], 25 * GB, cb, 0, 1);
    const z = net.startFlow([nic1, spine], 75 * GB, cb, 0, 2);
    expect([net.flowRate(x), net.flowRate(y), net.flowRate(z)]).toEqual([25 * GB, 25 * GB, 25 * GB]);
    sim.run();
    // X: 50 GB at 25 GB/s -> t=2. Z: 50 GB by t=2, then alone on the spine at 50 GB/s: +0.5 s -> 2.5.
    expect(t[1]).toBeCloseTo(1, 12);
    expect(t[0]).toBeCloseTo(2, 12);
    expect(t[2]).toBeCloseTo(2.5, 12);
  });

  it('property: allocation is feasible and every flow has a bottleneck link', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 }),
        (caps, rawPaths) => {
          const sim = newSim();
          const net = new Network(sim);
          caps.forEach((c) => net.addLink(c));
          const paths = rawPaths.map((p) => [...new Set(p.map((l) => l % caps.length))]);
          const ids = paths.map((p) => net.startFlow(p, 1000));
          const rates = ids.map((id) => net.flowRate(id));
          const load = caps.map(() => 0);
          paths.forEach((p, f) => p.forEach((l) => (load[l] += rates[f])));
          caps.forEach((c, l) => expect(load[l]).toBeLessThanOrEqual(c * (1 + 1e-9)));
          paths.forEach((p, f) => {
            expect(rates[f]).toBeGreaterThan(0);
            // Max-min: some link on the path is saturated and this flow's rate is the largest on it.
            const hasBottleneck = p.some(
              (l) =>
                load[l] >= caps[l] * (1 - 1e-9) &&
                paths.every((q, g) => !q.includes(l) || rates[g] <= rates[f] * (1 + 1e-9)),
            );
            expect(hasBottleneck).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on one link agrees with SharedLink on random workloads (incl. latency)', () => {
    for (let trial = 0; trial < 20; trial++) {
      const rng = createRng(`net-vs-link-${trial}`);
      const flows = Array.from({ length: 40 }, () => ({
        start: rng.int(4) === 0 ? 0 : rng.uniformRange(0, 5),
        bytes: rng.int(5) === 0 ? 0 : rng.uniformRange(1, 3e9),
        latency: rng.int(2) === 0 ? 0 : rng.uniformRange(0, 0.3),
      }));
      const finish = (useNetwork: boolean) => {
        const sim = newSim();
        const out: number[] = new Array(flows.length).fill(NaN);
        const cb = (tag: number, now: number) => (out[tag] = now);
        const net = new Network(sim);
        const l = net.addLink(2e9);
        const link = new SharedLink(sim, 2e9);
        flows.forEach((f, i) =>
          sim.scheduleAt(f.start, () =>
            useNetwork ? net.startFlow([l], f.bytes, cb, f.latency, i) : link.startFlow(f.bytes, cb, f.latency, i),
          ),
        );
        sim.run();
        const busy = useNetwork ? net.linkStats(l).busySeconds : link.busySeconds;
        const bytes = useNetwork ? net.linkStats(l).bytesTransferred : link.bytesTransferred;
        return { out, busy, bytes };
      };
      const a = finish(false);
      const b = finish(true);
      for (let i = 0; i < flows.length; i++) {
        expect(Number.isFinite(a.out[i])).toBe(true);
        expect(b.out[i]).toBeCloseTo(a.out[i], 7);
      }
      expect(b.busy).toBeCloseTo(a.busy, 7);
      const total = flows.reduce((s, f) => s + f.bytes, 0);
      expect(a.bytes / total).toBeCloseTo(1, 9);
      expect(b.bytes / total).toBeCloseTo(1, 9);
    }
  });

  it('validates inputs', () => {
    const net = new Network(newSim());
    expect(() => net.addLink(0)).toThrow(/bandwidth/);
    const l = net.addLink(1);
    expect(() => net.startFlow([], 1)).toThrow(/at least one link/);
    expect(() => net.startFlow([l, l], 1)).toThrow(/repeated/);
    expect(() => net.startFlow([5], 1)).toThrow(/unknown link/);
    expect(() => net.startFlow([l], -1)).toThrow(/bytes/);
  });
});
