import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EventHeap } from '../../src/sim/index.js';

type Key = { time: number; priority: number; seq: number };

function keyLess(a: Key, b: Key): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.priority !== b.priority) return a.priority < b.priority;
  return a.seq < b.seq;
}

describe('EventHeap', () => {
  it('pops in time order', () => {
    const h = new EventHeap<string>();
    h.push(3, 0, 'c');
    h.push(1, 0, 'a');
    h.push(2, 0, 'b');
    expect(h.size).toBe(3);
    expect(h.peekTime()).toBe(1);
    expect([h.pop(), h.pop(), h.pop()]).toEqual(['a', 'b', 'c']);
    expect(h.size).toBe(0);
    expect(h.pop()).toBeUndefined();
    expect(h.peekTime()).toBe(Infinity);
  });

  it('breaks time ties by priority, then by insertion order', () => {
    const h = new EventHeap<string>();
    h.push(1, 5, 'p5-first');
    h.push(1, -1, 'pm1');
    h.push(1, 5, 'p5-second');
    h.push(0.5, 9, 'early');
    h.push(1, 0, 'p0');
    h.push(1, 5, 'p5-third');
    const out: string[] = [];
    while (h.size > 0) out.push(h.pop()!);
    expect(out).toEqual(['early', 'pm1', 'p0', 'p5-first', 'p5-second', 'p5-third']);
  });

  it('returns increasing sequence numbers and exposes popped keys', () => {
    const h = new EventHeap<number>(4);
    const seqs = [h.push(2, 1, 10, 7), h.push(1, 2, 20, 8)];
    expect(seqs).toEqual([0, 1]);
    expect(h.pop()).toBe(20);
    expect([h.lastTime, h.lastPriority, h.lastSeq, h.lastTag]).toEqual([1, 2, 1, 8]);
  });

  it('grows past its initial capacity and clear() empties it', () => {
    const h = new EventHeap<number>(4);
    for (let i = 0; i < 1000; i++) h.push((i * 7919) % 1000, 0, i);
    expect(h.size).toBe(1000);
    let prev = -1;
    for (let i = 0; i < 500; i++) {
      h.pop();
      expect(h.lastTime).toBeGreaterThanOrEqual(prev);
      prev = h.lastTime;
    }
    h.clear();
    expect(h.size).toBe(0);
    expect(h.push(1, 0, 1)).toBe(1000); // the counter keeps going so ids stay unique
  });

  it('property: popping everything yields sorted (time, priority, seq)', () => {
    fc.assert(
      fc.property(
        // Few distinct values so ties are frequent.
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -2, max: 2 })), { maxLength: 300 }),
        (items) => {
          const h = new EventHeap<number>(4);
          items.forEach(([t, p], i) => expect(h.push(t / 2, p, i)).toBe(i));
          const popped: Key[] = [];
          while (h.size > 0) {
            const payload = h.pop()!;
            expect(payload).toBe(h.lastSeq); // payload was the insertion index
            popped.push({ time: h.lastTime, priority: h.lastPriority, seq: h.lastSeq });
          }
          expect(popped.length).toBe(items.length);
          for (let i = 1; i < popped.length; i++) expect(keyLess(popped[i - 1], popped[i])).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: interleaved push/pop matches a sorted reference model', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), time: fc.integer({ min: 0, max: 8 }), priority: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const h = new EventHeap<number>(4);
        const model: Key[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            h.push(o.time, o.priority, seq);
            model.push({ time: o.time, priority: o.priority, seq: seq++ });
          } else {
            model.sort((a, b) => (keyLess(a, b) ? -1 : keyLess(b, a) ? 1 : 0));
            const expected = model.shift();
            const got = h.pop();
            expect(got).toBe(expected?.seq);
          }
          expect(h.size).toBe(model.length);
        }
      }),
      { numRuns: 200 },
    );
  });
});
