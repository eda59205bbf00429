import { describe, it, expect } from 'vitest';
import { autoLayerSplit, mtpLayerEquivalents, resolveModel } from '../../src/plan/resolve.js';

describe('layersPerStage: auto', () => {
  it("Llama 3 405B over PP 16: one fewer layer on the first and last stages (Llama 3 §3.3.2)", () => {
    expect(autoLayerSplit(126, 16)).toEqual([7, ...new Array(14).fill(8), 7]);
  });
  it('spreads a remainder over the middle stages first', () => {
    expect(autoLayerSplit(94, 8)).toEqual([11, 12, 12, 12, 12, 12, 12, 11]);
    expect(autoLayerSplit(61, 4)).toEqual([15, 16, 15, 15]);
    expect(autoLayerSplit(10, 4)).toEqual([2, 3, 3, 2]);
  });
  it("with DeepSeek-V3's MTP module gives Megatron-Bridge's DeepSeek-V3 layouts", () => {
    const ds = resolveModel({
      layers: 61, hidden: 7168, ffnHidden: 18432, heads: 128, kvHeads: 128, vocab: 129280, seqLen: 4096, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope', mtpLayers: 1,
      moe: { experts: 256, topK: 8, expertFfnHidden: 2048, sharedExperts: 1, moeLayerFrequency: 1, firstDenseLayers: 3 },
    });
    const extra = mtpLayerEquivalents(ds);
    // Megatron-Bridge deepseek_v3 recipe map_pp_vp_to_layout: (16, 1) embedding + 4 | 4 x 14 | 1 + mtp + loss;
    // (8, 1) 8 x 7 | 5 + mtp + loss; (4, 1) 16, 16, 16, 13 + mtp + loss.
    expect(autoLayerSplit(61, 16, extra)).toEqual([...new Array(15).fill(4), 1]);
    expect(autoLayerSplit(61, 8, extra)).toEqual([...new Array(7).fill(8), 5]);
    expect(autoLayerSplit(61, 4, extra)).toEqual([16, 16, 16, 13]);
  });
  it('always sums to the layers, keeps a layer on every stage, and never loads a stage past the even bound without MTP', () => {
    for (let layers = 1; layers <= 130; layers++)
      for (const pp of [1, 2, 3, 4, 8, 16]) {
        if (pp > layers) continue;
        const s = autoLayerSplit(layers, pp);
        expect(s.reduce((a, b) => a + b, 0)).toBe(layers);
        expect(Math.min(...s)).toBeGreaterThanOrEqual(1);
        expect(Math.max(...s)).toBe(Math.ceil(layers / pp));
      }
  });
});
