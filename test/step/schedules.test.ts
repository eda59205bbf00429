import { describe, it, expect } from 'vitest';
import { stageSchedule } from '../../src/step/schedules.js';
import { inFlightFormula, interleavedGroupSize, warmupMicroChunks, type ScheduleName } from '../../src/plan/pipeline.js';

const key = (op: { microBatch: number; chunk: number }) => `${op.chunk}/${op.microBatch}`;

describe('stageSchedule', () => {
  const cases: [ScheduleName, number, number, number][] = [
    ['gpipe', 4, 1, 8],
    ['1f1b', 4, 1, 8],
    ['1f1b', 4, 1, 2],
    ['zero-bubble', 4, 1, 8],
    ['interleaved-1f1b', 4, 2, 8],
    ['interleaved-1f1b', 4, 3, 6],
    ['interleaved-1f1b', 16, 8, 16],
  ];
  it.each(cases)('%s pp=%i vpp=%i m=%i runs every pass once, F before B before W', (schedule, pp, vpp, m) => {
    for (let s = 0; s < pp; s++) {
      const ops = stageSchedule(schedule, pp, vpp, m, s);
      const seen = new Map<string, number>();
      ops.forEach((op, pos) => {
        const k = `${op.phase}${key(op)}`;
        expect(seen.has(k)).toBe(false);
        seen.set(k, pos);
      });
      const phases = schedule === 'zero-bubble' ? 3 : 2;
      expect(ops.length).toBe(phases * m * vpp);
      for (const op of ops) {
        if (op.phase === 'B') expect(seen.get(`F${key(op)}`)).toBeLessThan(seen.get(`B${key(op)}`)!);
        if (op.phase === 'W') expect(seen.get(`B${key(op)}`)).toBeLessThan(seen.get(`W${key(op)}`)!);
      }
    }
  });

  it('1F1B: pp - s - 1 warm-up forwards, then alternates', () => {
    const ops = stageSchedule('1f1b', 4, 1, 6, 1).map((o) => `${o.phase}${o.microBatch}`);
    expect(ops).toEqual(['F0', 'F1', 'F2', 'B0', 'F3', 'B1', 'F4', 'B2', 'F5', 'B3', 'B4', 'B5']);
  });

  it('ZB-H1: rank s defers its first s weight passes to the end', () => {
    const last = stageSchedule('zero-bubble', 3, 1, 4, 2).map((o) => `${o.phase}${o.microBatch}`);
    expect(last).toEqual(['F0', 'B0', 'F1', 'B1', 'F2', 'B2', 'W0', 'F3', 'B3', 'W1', 'W2', 'W3']);
    const first = stageSchedule('zero-bubble', 3, 1, 4, 0).map((o) => `${o.phase}${o.microBatch}`);
    expect(first).toEqual(['F0', 'F1', 'F2', 'B0', 'W0', 'F3', 'B1', 'W1', 'B2', 'W2', 'B3', 'W3']);
  });

  it("interleaved: Megatron's order, groups of pp micro-batches through the chunks", () => {
    const ops = stageSchedule('interleaved-1f1b', 2, 2, 4, 1).map((o) => `${o.phase}${o.microBatch}c${o.chunk}`);
    // warm-up (pp-s-1)*2 + (vpp-1)*pp = 2 on the last rank
    expect(ops.slice(0, 4)).toEqual(['F0c0', 'F1c0', 'F0c1', 'B0c1']);
    expect(warmupMicroChunks('interleaved-1f1b', 16, 8, 32, 0)).toBe(30 + 7 * 16);
  });

  it('interleaved group size: pp when it fits, else the smallest group leaving no short remainder', () => {
    expect(interleavedGroupSize(4, 8)).toBe(4);
    expect(interleavedGroupSize(4, 3)).toBe(4);
    expect(interleavedGroupSize(4, 5)).toBe(5);
    expect(interleavedGroupSize(4, 9)).toBe(5);
    expect(interleavedGroupSize(4, 12)).toBe(4);
  });

  it('in-flight formula: 1F1B holds pp - s, interleaved pp + (pp-1)/vpp on rank 0, GPipe all', () => {
    expect(inFlightFormula('1f1b', 8, 1, 32, 0)).toBe(8);
    expect(inFlightFormula('1f1b', 8, 1, 32, 5)).toBe(3);
    expect(inFlightFormula('1f1b', 8, 1, 4, 0)).toBe(4);
    expect(inFlightFormula('gpipe', 8, 1, 32, 3)).toBe(32);
    expect(inFlightFormula('interleaved-1f1b', 8, 4, 32, 0)).toBe(8 + 7 / 4);
  });
});
