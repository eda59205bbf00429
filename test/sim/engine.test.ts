import { describe, it, expect } from 'vitest';
import { Simulation, InvariantError, createRng, type SimProcess } from '../../src/sim/index.js';

type Ev = { kind: 'mark'; name: string } | { kind: 'spawn'; name: string; delay: number };

function recorder() {
  const log: string[] = [];
  const sim = new Simulation<Ev>((s, ev) => {
    log.push(`${s.now}:${ev.name}`);
    if (ev.kind === 'spawn') s.schedule(ev.delay, { kind: 'mark', name: `${ev.name}-child` });
  });
  return { sim, log };
}

describe('Simulation', () => {
  it('runs events in time order and advances the clock', () => {
    const { sim, log } = recorder();
    sim.schedule(2, { kind: 'mark', name: 'b' });
    sim.schedule(1, { kind: 'spawn', name: 'a', delay: 0.5 });
    sim.scheduleAt(3, { kind: 'mark', name: 'c' });
    const r = sim.run();
    expect(log).toEqual(['1:a', '1.5:a-child', '2:b', '3:c']);
    expect(r).toEqual({ events: 4, timeSeconds: 3, stopped: false, reason: 'empty' });
    expect(sim.now).toBe(3);
    expect(sim.eventsHandled).toBe(4);
  });

  it('orders simultaneous events by priority then insertion', () => {
    const { sim, log } = recorder();
    sim.schedule(1, { kind: 'mark', name: 'p1-a' }, 1);
    sim.schedule(1, { kind: 'mark', name: 'p0' });
    sim.schedule(1, { kind: 'mark', name: 'p1-b' }, 1);
    sim.schedule(1, { kind: 'mark', name: 'pm5' }, -5);
    sim.run();
    expect(log).toEqual(['1:pm5', '1:p0', '1:p1-a', '1:p1-b']);
  });

  it('rejects scheduling in the past, NaN, negative or infinite delays, non-integer priorities', () => {
    const { sim } = recorder();
    sim.schedule(5, { kind: 'mark', name: 'x' });
    sim.run();
    expect(sim.now).toBe(5);
    const ev: Ev = { kind: 'mark', name: 'bad' };
    expect(() => sim.scheduleAt(4.999, ev)).toThrow(InvariantError);
    expect(() => sim.schedule(-1e-9, ev)).toThrow(/delay/);
    expect(() => sim.schedule(NaN, ev)).toThrow(InvariantError);
    expect(() => sim.schedule(Infinity, ev)).toThrow(InvariantError);
    expect(() => sim.scheduleAt(NaN, ev)).toThrow(InvariantError);
    expect(() => sim.schedule(1, ev, 0.5)).toThrow(/priority/);
    expect(() => sim.run({ until: 1 })).toThrow(/until/);
    expect(sim.scheduleAt(5, ev)).toBeGreaterThan(0); // "now" itself is fine
  });

  it('cancels events lazily and reports bad cancels', () => {
    const { sim, log } = recorder();
    const a = sim.schedule(1, { kind: 'mark', name: 'a' });
    const b = sim.schedule(2, { kind: 'mark', name: 'b' });
    sim.schedule(3, { kind: 'mark', name: 'c' });
    expect(sim.cancel(b)).toBe(true);
    expect(sim.cancel(b)).toBe(false); // already cancelled
    expect(sim.cancel(12345)).toBe(false); // never issued
    expect(sim.cancel(-1)).toBe(false);
    const r = sim.run();
    expect(log).toEqual(['1:a', '3:c']);
    expect(r.events).toBe(2);
    expect(sim.cancel(a)).toBe(true); // already fired: harmless no-op
    expect(sim.run().events).toBe(0);
  });

  it('lets a handler cancel a simultaneous later event', () => {
    const log: string[] = [];
    let victim = -1;
    const sim = new Simulation<string>((s, ev) => {
      log.push(ev);
      if (ev === 'killer') s.cancel(victim);
    });
    sim.schedule(1, 'killer');
    victim = sim.schedule(1, 'victim');
    sim.schedule(1, 'survivor');
    sim.run();
    expect(log).toEqual(['killer', 'survivor']);
  });

  it('stays correct when many already-fired ids are cancelled', () => {
    const fired: number[] = [];
    const sim = new Simulation<number>((_s, ev) => fired.push(ev));
    const ids: number[] = [];
    for (let i = 0; i < 1000; i++) ids.push(sim.schedule(i, i));
    sim.run({ until: 499.5 });
    for (let i = 0; i < 500; i++) sim.cancel(ids[i]); // garbage: these fired already
    sim.cancel(ids[700]);
    sim.run();
    expect(fired.length).toBe(999);
    expect(fired.includes(700)).toBe(false);
  });

  it('run({ until }) handles events at until inclusively and parks the clock at until', () => {
    const { sim, log } = recorder();
    for (const t of [1, 2, 3, 4]) sim.scheduleAt(t, { kind: 'mark', name: `t${t}` });
    const r1 = sim.run({ until: 2 });
    expect(log).toEqual(['1:t1', '2:t2']);
    expect(r1).toEqual({ events: 2, timeSeconds: 2, stopped: false, reason: 'until' });
    const r2 = sim.run({ until: 2.5 });
    expect(r2.events).toBe(0);
    expect(sim.now).toBe(2.5);
    const r3 = sim.run({ until: 100 });
    expect(r3).toEqual({ events: 2, timeSeconds: 100, stopped: false, reason: 'empty' });
  });

  it('run({ maxEvents }) stops early and resumes', () => {
    const { sim, log } = recorder();
    for (const t of [1, 2, 3]) sim.scheduleAt(t, { kind: 'mark', name: `t${t}` });
    const r = sim.run({ maxEvents: 2 });
    expect(r).toEqual({ events: 2, timeSeconds: 2, stopped: true, reason: 'maxEvents' });
    expect(sim.run({ maxEvents: 2 })).toEqual({ events: 1, timeSeconds: 3, stopped: false, reason: 'empty' });
    expect(log).toEqual(['1:t1', '2:t2', '3:t3']);
  });

  it('maxEvents is not an early stop when only cancelled events remain', () => {
    const { sim } = recorder();
    sim.scheduleAt(1, { kind: 'mark', name: 'a' });
    sim.cancel(sim.scheduleAt(2, { kind: 'mark', name: 'b' }));
    expect(sim.run({ maxEvents: 1 })).toMatchObject({ events: 1, stopped: false, reason: 'empty' });
  });

  it('stop() from a handler ends the run after that event', () => {
    const log: number[] = [];
    const sim = new Simulation<number>((s, ev) => {
      log.push(ev);
      if (ev === 2) s.stop();
    });
    for (let i = 1; i <= 4; i++) sim.scheduleAt(i, i);
    expect(sim.run()).toEqual({ events: 2, timeSeconds: 2, stopped: true, reason: 'stopped' });
    expect(sim.run().events).toBe(2);
    expect(log).toEqual([1, 2, 3, 4]);
  });

  it('is not re-entrant', () => {
    const sim = new Simulation<number>((s) => {
      s.run();
    });
    sim.schedule(0, 1);
    expect(() => sim.run()).toThrow(/re-entrant/);
    expect(sim.isRunning).toBe(false);
  });

  it('wakes processes with their tag, interleaved with user events by (time, priority, seq)', () => {
    const log: string[] = [];
    const sim = new Simulation<string>((s, ev) => log.push(`${s.now}:${ev}`));
    const proc: SimProcess = { onSimEvent: (tag) => log.push(`${sim.now}:proc${tag}`) };
    sim.schedule(1, 'user-a');
    sim.scheduleProcess(1, proc, 7);
    sim.scheduleProcessAt(0.5, proc, 3);
    sim.schedule(1, 'user-b');
    const hidden = sim.scheduleProcess(1, proc, 9);
    sim.cancel(hidden);
    sim.run();
    expect(log).toEqual(['0.5:proc3', '1:user-a', '1:proc7', '1:user-b']);
    expect(() => sim.scheduleProcess(1, proc, -1)).toThrow(/tag/);
    expect(() => sim.scheduleProcess(1, proc, 1.5)).toThrow(/tag/);
  });

  it('reset() clears pending events and the clock', () => {
    const { sim, log } = recorder();
    sim.schedule(1, { kind: 'mark', name: 'a' });
    sim.run();
    sim.schedule(1, { kind: 'mark', name: 'b' });
    sim.reset();
    expect(sim.now).toBe(0);
    expect(sim.queued).toBe(0);
    expect(sim.run().events).toBe(0);
    expect(log).toEqual(['1:a']);
  });

  it('is deterministic: same seed gives the same trace', () => {
    const trace = (seed: number) => {
      const rng = createRng(seed);
      const out: string[] = [];
      const sim = new Simulation<{ id: number }>((s, ev) => {
        out.push(`${s.now.toFixed(12)}:${ev.id}`);
        if (out.length < 2000) s.schedule(rng.exponential(1), ev, rng.int(3));
      });
      // Quantised delays make many exact ties, exercising the tie-break.
      for (let i = 0; i < 50; i++) sim.schedule(Math.floor(rng.uniform() * 4), { id: i });
      sim.run();
      return out;
    };
    const a = trace(42);
    expect(a.length).toBeGreaterThan(1000);
    expect(trace(42)).toEqual(a);
    expect(trace(43)).not.toEqual(a);
  });
});
