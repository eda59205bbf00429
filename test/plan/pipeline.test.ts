import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { chunkLayout, heldChunksAtPeak, inFlightFormula, interleavedGroupSize, interleavedScheduleTable, pipelineShape, type ScheduleName } from '../../src/plan/pipeline.js';
import { stageSchedule } from '../../src/step/schedules.js';
import { loadScenario } from '../../src/io/load.js';
import { estimateMemory, microbatchGroupToFit, activationBytesPerTokenLayer } from '../../src/plan/memory.js';
import { evaluate } from '../../src/run/evaluate.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('micro-chunks held at the peak (pipeline.ts heldChunksAtPeak)', () => {
  it("Megatron's schedule table, PP2 N3 M5 VP2 (schedules.py get_schedule_table docstring)", () => {
    expect(interleavedScheduleTable(5, 2, 3).map(([i]) => i)).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 3, 4]);
    expect(interleavedScheduleTable(5, 2, 3).map(([, c]) => c)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 1, 1]);
  });

  it('with equal chunks: warm-up + 1 micro-chunks, the in-flight formula both engines read, for any pp, vpp, m and schedule (pp not dividing m too)', () => {
    const schedules: ScheduleName[] = ['1f1b', 'gpipe', 'zero-bubble', 'interleaved-1f1b'];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(...schedules), (pp, vppIn, m, schedule) => {
        const vpp = schedule === 'interleaved-1f1b' ? vppIn : 1;
        const shape = pipelineShape({ pp, vpp, schedule, numMicroBatches: m });
        for (let s = 0; s < pp; s++) {
          const held = heldChunksAtPeak(shape.schedule, pp, shape.vpp, m, s, new Array<number>(shape.vpp).fill(1), shape.group);
          expect(sum(held) / shape.vpp).toBeCloseTo(shape.inFlight[s], 9);
          expect(shape.inFlight[s]).toBeCloseTo(inFlightFormula(shape.schedule, pp, shape.vpp, m, s, shape.group), 12);
          for (const h of held) expect(h).toBeLessThanOrEqual(m);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the same count as the op order the DES runs: forwards started minus backwards done, at its largest (pp 8, vpp 4, m 12: the group is 12, all 12 micro-batches on rank 0, where memory once counted 9.75)', () => {
    for (const [pp, vpp, m] of [[8, 4, 12], [4, 2, 6], [4, 3, 10], [16, 8, 32]]) {
      const g = interleavedGroupSize(pp, m);
      for (let s = 0; s < pp; s++) {
        let live = 0;
        let peak = 0;
        for (const op of stageSchedule('interleaved-1f1b', pp, vpp, m, s)) {
          live += op.phase === 'F' ? 1 : op.phase === 'B' ? -1 : 0;
          peak = Math.max(peak, live);
        }
        expect(sum(heldChunksAtPeak('interleaved-1f1b', pp, vpp, m, s, new Array<number>(vpp).fill(1), g))).toBe(peak);
      }
    }
    expect(pipelineShape({ pp: 8, vpp: 4, schedule: 'interleaved-1f1b', numMicroBatches: 12 }).inFlight[0]).toBe(12);
  });

  it('Llama 3 405B on 8K GPUs (PP 16, V 8, M 32, N 16; §3.3.2: the first chunk holds only the embedding, the last only the LM head): rank 0 holds 112 layer-micro-batches, rank 1 141, rank 15 113 (later than its first backward)', () => {
    const split = [7, ...new Array<number>(14).fill(8), 7];
    const chunks = chunkLayout(split, 8);
    expect(chunks[0][0].numLayers).toBe(0);
    expect(chunks[15][7].numLayers).toBe(0);
    const layersHeld = (s: number) => {
      const bytes = chunks[s].map((c) => c.numLayers);
      const held = heldChunksAtPeak('interleaved-1f1b', 16, 8, 32, s, bytes, 16);
      return { layers: sum(held.map((h, c) => h * bytes[c])), held };
    };
    // rank 0: warm-up 2·15 + 7·16 = 142, +1: 16 micro-batches of each chunk and 15 more of chunk 0 (the embedding)
    expect(layersHeld(0).layers).toBe(7 * 16);
    // rank 1: 2·14 + 7·16 + 1 = 141 one-layer chunks
    expect(layersHeld(1).layers).toBe(141);
    // rank 15: 7·16 + 1 = 113 chunks at its first backward, the last the output chunk (no layer):
    // 112 layers. Its peak comes later: the forward of the second group's chunk 0 (one layer)
    // is paired with the backward of an output chunk (none), 113 layers.
    expect(layersHeld(15).layers).toBe(7 * 16 + 1);
    expect(sum(layersHeld(15).held)).toBe(113);
  });
});

describe('Llama 3 405B on 8,192 GPUs (scenarios/llama3-405b-8k-gpus.yaml)', () => {
  it('the peak is rank 1 with 141 layer-micro-batches of one 8K sequence; it would fit with N <= 14 (2·14 + 7·14 + 1 = 127 chunks, the 16K-GPU run holds 128)', () => {
    const s = loadScenario('scenarios/llama3-405b-8k-gpus.yaml');
    const m = estimateMemory(s.model, s.plan, s.gpu);
    const perLayer = activationBytesPerTokenLayer(s.model, s.plan) * 8192;
    expect(m.peakStage).toBe(1);
    expect(m.breakdown.activationsBytes).toBeCloseTo(141 * perLayer, -3);
    expect(m.perGpuBytes).toBeGreaterThan(m.capacityBytes);
    expect(microbatchGroupToFit(s.model, s.plan, s.gpu)).toBe(14);
    expect(estimateMemory(s.model, s.plan, s.gpu, 14).breakdown.activationsBytes).toBeCloseTo(127 * perLayer, -3);
    expect(estimateMemory(s.model, s.plan, s.gpu, 15).perGpuBytes).toBeGreaterThan(m.capacityBytes);
    // microbatchGroupToFit bisects: the peak never falls as N grows
    let last = 0;
    for (let n = 1; n <= 32; n++) {
      const b = estimateMemory(s.model, s.plan, s.gpu, n).perGpuBytes;
      expect(b).toBeGreaterThanOrEqual(last);
      last = b;
    }
  });

  it('evaluate names the group in its memory problem and in --json; the 16K-GPU layout (M = 16 = N, 128 layer-micro-batches) fits and gets no hint', () => {
    const ev = evaluate(loadScenario('scenarios/llama3-405b-8k-gpus.yaml'));
    expect(ev.feasible).toBe(false);
    expect(ev.memory.microBatchGroup).toBe(16);
    expect(ev.memory.microBatchGroupToFit).toBe(14);
    expect(ev.reasons.join('\n')).toMatch(/micro-batch groups of N <= 14 \(runs N = 16; Megatron's microbatch_group_size_per_vp_stage must be >= pp = 16/);
    const s16 = loadScenario('scenarios/llama3-405b.yaml');
    const m16 = estimateMemory(s16.model, s16.plan, s16.gpu);
    expect(m16.perGpuBytes).toBeLessThanOrEqual(m16.capacityBytes);
    expect(m16.breakdown.activationsBytes).toBeCloseTo(128 * activationBytesPerTokenLayer(s16.model, s16.plan) * 8192, -3);
    expect(microbatchGroupToFit(s16.model, s16.plan, s16.gpu)).toBeNull();
  });
});
