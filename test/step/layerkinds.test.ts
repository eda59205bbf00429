/**
 * The step and memory follow each layer's kind (model/layers.ts): a chunked or sliding layer's
 * attention kernels scale with the keys it attends (attendedKeysPerQuery), equal full attention
 * when the span reaches the sequence, and context parallelism over chunked layers moves only what
 * crosses a chunk boundary (cpRemoteKeysPerRank).
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../../src/io/load.js';
import { stepCosts } from '../../src/step/costs.js';
import { analyticStep } from '../../src/step/analytic.js';
import { estimateMemory } from '../../src/plan/memory.js';
import { attendedKeysPerQuery, layerKind } from '../../src/model/layers.js';
import type { Scenario } from '../../src/plan/resolve.js';

const base = loadScenario(join(packageRoot, 'scenarios', 'tiny.yaml'));
const s = base.model.seqLen; // 256

/** tiny with every layer of one attention kind (pattern of one entry). */
function withAttention(sc: Scenario, type: 'chunked' | 'sliding', span: number, planPatch: Partial<Scenario['plan']> = {}): Scenario {
  const attention = type === 'chunked' ? { pattern: [type], chunkTokens: span, sinks: false } : { pattern: [type], windowTokens: span, sinks: false };
  return { ...sc, model: { ...sc.model, attention } as Scenario['model'], plan: { ...sc.plan, ...planPatch } };
}

describe('per-layer attention kinds in the step', () => {
  it('a chunked or sliding layer costs exactly what a full one does when its span reaches the sequence', () => {
    const full = stepCosts(base);
    for (const type of ['chunked', 'sliding'] as const) {
      for (const span of [s, 4 * s]) {
        const c = stepCosts(withAttention(base, type, span));
        expect(c.stages[0].layers[0]).toEqual(full.stages[0].layers[0]);
        expect(analyticStep(withAttention(base, type, span), c).stepSeconds).toBe(analyticStep(base, full).stepSeconds);
      }
    }
  });

  it('below the sequence the attention kernels scale with the chunk, not the sequence', () => {
    const full = stepCosts(base).stages[0].layers[0];
    for (const chunk of [32, 64, 128]) {
      const sc = withAttention(base, 'chunked', chunk);
      const l = stepCosts(sc).stages[0].layers[0];
      // Flash kernels run at a fixed efficiency (system/compute.ts attentionSeconds): time ∝ FLOPs ∝ attended keys, c/2 when c divides s.
      expect(attendedKeysPerQuery(layerKind(sc.model, 0), s)).toBe(chunk / 2);
      expect(l.attentionForwardSeconds / full.attentionForwardSeconds).toBeCloseTo(chunk / s, 12);
      expect(l.attentionBackwardSeconds / full.attentionBackwardSeconds).toBeCloseTo(chunk / s, 12);
      // Everything but attention is the same layer.
      expect(l.forwardSeconds - l.attentionForwardSeconds).toBeCloseTo(full.forwardSeconds - full.attentionForwardSeconds, 15);
    }
  });

  it('unfused attention keeps scores over the span only (memory and time)', () => {
    const unfused = { attentionKernel: 'unfused' as const };
    const fullSc = { ...base, plan: { ...base.plan, ...unfused } };
    const chunked = withAttention(base, 'chunked', 64, unfused);
    const mFull = estimateMemory(fullSc.model, fullSc.plan, fullSc.gpu).breakdown.activationsBytes;
    const mChunk = estimateMemory(chunked.model, chunked.plan, chunked.gpu).breakdown.activationsBytes;
    expect(mChunk).toBeLessThan(mFull);
    expect(stepCosts(chunked).stages[0].layers[0].attentionForwardSeconds).toBeLessThan(stepCosts(fullSc).stages[0].layers[0].attentionForwardSeconds);
  });

  it('CP over chunked layers exchanges nothing when the chunk divides the shard; a sliding window sends its halo', () => {
    // tp 1, cp 2, pp 2, dp 2 on 8 GPUs: each CP rank holds 128 tokens.
    const cpPlan = { tp: 1, cp: 2, sequenceParallel: false };
    const full = stepCosts({ ...base, plan: { ...base.plan, ...cpPlan } }).stages[0].layers[0];
    expect(full.cpForwardCommSeconds).toBeGreaterThan(0);
    expect(stepCosts(withAttention(base, 'chunked', 64, cpPlan)).stages[0].layers[0].cpForwardCommSeconds).toBe(0);
    const halo = stepCosts(withAttention(base, 'sliding', 32, cpPlan)).stages[0].layers[0].cpForwardCommSeconds;
    expect(halo).toBeGreaterThan(0);
    expect(halo).toBeLessThan(full.cpForwardCommSeconds);
  });
});
