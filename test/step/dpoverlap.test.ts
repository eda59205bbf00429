/**
 * The overlapped ZeRO 0-2 DP collectives in closed form (analytic.ts dpOverlapTail) against
 * hand-worked values and against the DES, which runs the same mechanism with events: per-layer
 * buckets, a model chunk's gradients reduced once its last micro-batch's backward has produced
 * them (Megatron-Core schedules.py forward_backward_pipelining_with_interleaving: grad_sync_func of
 * a chunk at is_last_microbatch_for_model_chunk), the parameters gathered layer by layer ahead of
 * each chunk's first forward.
 */
import { describe, it, expect } from 'vitest';
import { analyticStep } from '../../src/step/analytic.js';
import { chunkClocks, chunkClocksOf, dpOverlapTail, passesOfSegments } from '../../src/step/dp-overlap.js';
import { stageSchedule } from '../../src/step/schedules.js';
import { desStep } from '../../src/step/des.js';
import type { Segment } from '../../src/step/des/segments.js';
import type { ScheduledOp } from '../../src/step/schedules.js';
import type { ScheduleName } from '../../src/plan/pipeline.js';
import { shapedScenario, zeroCommCosts, layer } from './helpers.js';

/** One layer's piece of a pass: `total` seconds, `share` of the rank's parameters. */
const seg = (total: number, share: number): Segment => ({ layer: 0, name: 'L', total, compute: total, tp: 0, cp: 0, ep: 0, collective: 0, paramShare: share });
/** A rank's segments [chunk][F, B, W]: `layers` layers per chunk, forward f and backward b seconds each. */
const chunks = (n: number, layers: number, f: number, b: number, share: number) =>
  passesOfSegments(Array.from({ length: n }, () => [Array.from({ length: layers }, () => seg(f, share)), Array.from({ length: layers }, () => seg(b, share)), Array.from({ length: layers }, () => seg(0, share))]));
const op = (phase: 'F' | 'B', microBatch: number, chunk = 0): ScheduledOp => ({ phase, microBatch, chunk });

describe('dpOverlapTail by hand', () => {
  it('one chunk: the buckets fill during the last backward and the last one is exposed', () => {
    // 4 layers, F 1 s and B 2 s each, m = 2; reduce-scatter 12 s (3 s a layer), gather 2 s (0.5 a layer).
    // The last backward starts at 4 + 8 + 4 = 16 s; its layers end at 18, 20, 22, 24 s. The DP
    // stream: 18 + 3 = 21, max(21, 20) + 3 = 24, 27, 30: 6 s past the compute's end at 24 s
    // (= one bucket + 3·(3 − 2) s). The gathers: the first layer's 0.5 s waits, each next one
    // hides behind the previous layer's 1 s forward. The old rule (grad − one micro-batch's
    // backward) gave 12 − 8 = 4 s and 0 s.
    const order = [op('F', 0), op('B', 0), op('F', 1), op('B', 1)];
    const r = dpOverlapTail(chunks(1, 4, 1, 2, 0.25), order, false, { gradientSeconds: 12, paramGatherSeconds: 2 }, 0);
    expect(r.reduce).toBeCloseTo(6, 12);
    expect(r.gather).toBeCloseTo(0.5, 12);
    // Warm-up idle before the rank's first forward covers the gathers.
    expect(dpOverlapTail(chunks(1, 4, 1, 2, 0.25), order, false, { gradientSeconds: 12, paramGatherSeconds: 2 }, 0.5).gather).toBeCloseTo(0, 12);
  });

  it('two chunks: the chunk whose last backward comes first is covered by the other chunk’s backward', () => {
    // 2 chunks of 2 layers (F 1 s, B 2 s a layer, a quarter of the parameters each), two
    // micro-batches through chunk 0 then chunk 1, backward in reverse (Megatron's table, group 2).
    // Forwards 0-8 s; B(0, c1) 8-12, B(1, c1) 12-16: chunk 1's layers ready at 14 and 16 s;
    // B(0, c0) 16-20, B(1, c0) 20-24: chunk 0's at 22 and 24 s. Reduce-scatter 20 s (5 s a layer):
    // 14 + 5 = 19, max(19, 16) + 5 = 24, max(24, 22) + 5 = 29, 34: 10 s exposed. Covering it by one
    // micro-batch's backward (8 s) alone would expose 12 s.
    const order = [op('F', 0, 0), op('F', 1, 0), op('F', 0, 1), op('F', 1, 1), op('B', 0, 1), op('B', 1, 1), op('B', 0, 0), op('B', 1, 0)];
    const r = dpOverlapTail(chunks(2, 2, 1, 2, 0.25), order, false, { gradientSeconds: 20, paramGatherSeconds: 0 }, 0);
    expect(r.reduce).toBeCloseTo(10, 12);
    expect(r.gather).toBe(0);
  });
});

describe('chunkClocks', () => {
  it('places each chunk’s first forward and last backward where stageSchedule’s interleaved order does', () => {
    // Unequal passes per chunk so that a wrong position shows; m below, at, and not a multiple of pp.
    for (const pp of [2, 3, 4, 8])
      for (const vpp of [2, 3, 5])
        for (let m = 1; m <= 3 * pp + 1; m++) {
          const pass = Array.from({ length: vpp }, (_, c) => [1 + c, 2.5 + 0.5 * c, 0]);
          for (let s = 0; s < pp; s++) {
            const want = chunkClocksOf(stageSchedule('interleaved-1f1b', pp, vpp, m, s), pass, false);
            const got = chunkClocks({ pp, vpp, m }, s, pass, false);
            expect(got.end).toBeCloseTo(want.end, 9);
            for (let c = 0; c < vpp; c++) {
              expect(got.firstForward[c]).toBeCloseTo(want.firstForward[c], 9);
              expect(got.lastGradient[c]).toBeCloseTo(want.lastGradient[c], 9);
            }
          }
        }
  });

  it('one chunk: first forward at 0, last gradient pass last, for every schedule', () => {
    const pass = [[1, 2, 0.5]];
    for (const schedule of ['1f1b', 'gpipe', 'zero-bubble'] as const) {
      for (const [pp, m] of [[1, 3], [4, 4], [4, 9]]) {
        // A single rank runs plain 1F1B, W inside B (plan/pipeline.ts pipelineShape).
        const zb = schedule === 'zero-bubble' && pp > 1;
        const p = zb ? pass : [[1, 2.5, 0]];
        const want = chunkClocksOf(stageSchedule(pp === 1 ? '1f1b' : schedule, pp, 1, m, pp - 1), p, zb);
        expect(chunkClocks({ pp, vpp: 1, m }, pp - 1, p, zb)).toEqual(want);
      }
    }
  });
});

describe('closed form and DES agree on the overlapped DP collectives', () => {
  // Identical layers (F 1, B 1.5, W 0.75 s) with the tiny scenario's embedding and LM head as the
  // extras' bucket, no PP sends (the one place the engines differ on purpose, des.ts), m ≥ pp.
  // Stage reduce-scatter g × the stage's layer backward, gather half of it (ZeRO-1).
  // The engines walk the same passes in the same order on the same buckets, so with identical
  // stages they agree to rounding; the old closed form (grad − one micro-batch's backward)
  // differed by up to 26 % of the step on these shapes (interleaved: +17 %, pp 1 m 1: −26 %).
  const shapes: [ScheduleName, number, number, number][] = [];
  for (const [schedule, vpps] of [
    ['1f1b', [1]],
    ['gpipe', [1]],
    ['zero-bubble', [1]],
    ['interleaved-1f1b', [2, 4]],
  ] as [ScheduleName, number[]][])
    for (const pp of [1, 2, 4])
      for (const vpp of vpps)
        for (const mk of [1, 2]) if (pp > 1 || schedule === '1f1b') shapes.push([schedule, pp, vpp, pp * mk]);

  it.each(shapes)('%s pp %i vpp %i m %i', (schedule, pp, vpp, m) => {
    for (const g of [0.2, 1, 3])
      for (const zero of [0, 1]) {
        const L = 2 * vpp;
        const sc = shapedScenario({ pp, vpp, m, schedule, layersPerStage: L, zeroStage: zero, overlap: { dp: true, pp: true } });
        const costs = zeroCommCosts(sc, layer(1, 1.5, 0.75));
        costs.dp = costs.dp.map((d) => ({ ...d, gradientSeconds: g * 2.25 * L, paramGatherSeconds: zero ? g * L : 0 }));
        const a = analyticStep(sc, costs);
        const d = desStep(sc, costs);
        expect(a.breakdown.dpSeconds).toBeGreaterThan(0);
        expect(a.stepSeconds / d.stepSeconds - 1).toBeCloseTo(0, 9);
        // With a pipeline the DES books the part of the DP tail that overlaps the other ranks'
        // drain as bubble; on one rank both books hold the same exposed DP time.
        if (pp === 1) expect(a.breakdown.dpSeconds).toBeCloseTo(d.breakdown.dpSeconds, 9);
      }
  });
});

describe('PP sends without overlap in closed form', () => {
  it('the busiest rank at a node boundary sends one way over the network and the other over NVLink, as the DES routes them', () => {
    // pp 4 with 2 ranks a node: rank 1 sends forward to rank 2 over the NIC (0.3 s) and backward
    // to rank 0 over NVLink (0.1 s). m = 8 micro-batches: 8·(0.3 + 0.1) blocking, plus the fill
    // and drain chain 2·3·0.3 = 5.0 s (it was 2·8·0.3 + 1.8 = 6.6 s, every send over the NIC).
    for (const m of [4, 8, 16]) {
      const sc = shapedScenario({ pp: 4, m, schedule: '1f1b', layersPerStage: 2, overlap: { pp: false } });
      const c = zeroCommCosts(sc, layer(1, 1.5, 0.75));
      c.placements = { ...c.placements, pp: { ...c.placements.pp, membersPerNode: 2, nodes: 2 } };
      c.ppSendSeconds = 0.3;
      c.ppSendSecondsSameNode = 0.1;
      const a = analyticStep(sc, c);
      expect(a.breakdown.ppSeconds).toBeCloseTo(1.8 + m * 0.4, 9);
      // Above the DES by at most the fill and drain chain the closed form adds on top.
      const d = desStep(sc, c);
      expect(a.stepSeconds - d.stepSeconds).toBeGreaterThanOrEqual(0);
      expect(a.stepSeconds - d.stepSeconds).toBeLessThanOrEqual(1.8 + 1e-9);
    }
  });
});
