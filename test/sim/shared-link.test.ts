import { describe, it, expect } from 'vitest';
import { Simulation, SharedLink } from '../../src/sim/index.js';

const GB = 1e9;

/** A simulation whose user events are callbacks, for tests that need "at time t, do x". */
function newSim() {
  return new Simulation<() => void>((_s, fn) => fn());
}

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
