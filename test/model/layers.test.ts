import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ModelSchema, type Model } from '../../src/schema/model.js';
import { resolveModel } from '../../src/model/resolved.js';
import { attendedKeysPerQuery, attentionNotModelled, attentionSpanTokens, cpRemoteKeysPerRank, ffnKind, layerKind, layerKinds, type LayerKind } from '../../src/model/layers.js';
import { countMoeLayers, countParams, isMoeLayer, layerParams } from '../../src/model/params.js';
import { flopsPerToken, forwardAttentionFlopsPerLayerToken, forwardAttentionFlopsPerToken, layerForwardFlopsPerToken, routerForwardFlopsPerToken } from '../../src/model/flops.js';
import { loadProfile } from '../../src/io/load.js';

// Model files no longer hold the sequence length (plan.seqLen); the Llama 3 ones are read at their 8K pre-training length.
const model = (name: string) => {
  const m = loadProfile('model', name);
  return resolveModel(m, m.seqLen ?? 8192);
};
const indicesOf = (m: Model, pred: (k: LayerKind) => boolean) => Array.from({ length: m.layers }, (_, i) => i).filter((i) => pred(layerKind(m, i)));

// A Scout-sized attention block (40 heads of 128, 8 KV heads) on a small dense model.
const base = (extra: Partial<Model> = {}): Model =>
  ModelSchema.parse({ layers: 4, hidden: 5120, ffnHidden: 8192, heads: 40, kvHeads: 8, vocab: 1000, seqLen: 8192, ffnType: 'swiglu', ...extra });

describe('layer kinds from the released configs', () => {
  it('Llama 4 Scout: chunked RoPE layers, a global NoPE layer every 4th (HF no_rope_layers[i] = (i+1) % 4 != 0), all MoE', () => {
    const m = model('llama4-scout');
    const full = indicesOf(m, (k) => k.attention === 'full');
    expect(full).toEqual([3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47]);
    expect(full.every((i) => !layerKind(m, i).rope)).toBe(true);
    expect(indicesOf(m, (k) => k.attention === 'chunked' && k.spanTokens === 8192 && k.rope)).toHaveLength(36);
    expect(countMoeLayers(m)).toBe(48);
  });

  it('Llama 4 Maverick: MoE on layers 1, 3, ..., 47 (HF moe_layers = range(step - 1, L, step), step 2)', () => {
    const m = model('llama4-maverick');
    expect(indicesOf(m, (k) => k.ffn === 'moe')).toEqual(Array.from({ length: 24 }, (_, j) => 2 * j + 1));
    const groups = layerKinds(m).map((g) => [g.kind.attention, g.kind.ffn, g.count]);
    expect(groups).toEqual([['chunked', 'dense', 24], ['chunked', 'moe', 12], ['full', 'moe', 12]]);
  });

  it('GPT-OSS: sliding window 128 on even layers, full on odd (HF layer_types), sinks everywhere', () => {
    const m = model('gpt-oss-120b');
    expect(indicesOf(m, (k) => k.attention === 'sliding' && k.spanTokens === 128)).toEqual(Array.from({ length: 18 }, (_, j) => 2 * j));
    expect(indicesOf(m, (k) => k.sinks)).toHaveLength(36);
  });

  it('groups cover every layer once, in order', () => {
    for (const name of ['llama4-scout', 'llama4-maverick', 'gpt-oss-20b', 'deepseek-v3', 'llama3-8b']) {
      const m = model(name);
      const all = layerKinds(m).flatMap((g) => g.indices).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: m.layers }, (_, i) => i));
      for (const g of layerKinds(m)) expect(g.count).toBe(g.indices.length);
    }
  });

  it('moeLayerFrequency/firstDenseLayers place MoE layers as before: the last of every k after the dense ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 8 }), (layers, fd, k) => {
        const firstDenseLayers = Math.min(fd, layers);
        const m = resolveModel(base({ layers, moe: { experts: 8, topK: 2, expertFfnHidden: 512, sharedExperts: 0, moeLayerFrequency: k, firstDenseLayers } }));
        for (let i = 0; i < layers; i++) {
          const old = i >= firstDenseLayers && (i - firstDenseLayers) % k === k - 1;
          expect(isMoeLayer(m, i)).toBe(old);
        }
        expect(countMoeLayers(m)).toBe(Math.floor((layers - firstDenseLayers) / k));
      }),
      { numRuns: 80 },
    );
  });

  it('an explicit list of MoE layers', () => {
    const m = resolveModel(base({ layers: 8, moe: { experts: 8, topK: 2, expertFfnHidden: 512, sharedExperts: 0, moeLayerFrequency: 1, firstDenseLayers: 0, layerIndices: [0, 5, 7] } }));
    expect(indicesOf(m, (k) => k.ffn === 'moe')).toEqual([0, 5, 7]);
    expect(countParams(m).moeLayers).toBe(3);
    expect(ffnKind(m, 6)).toBe('dense');
  });
});

describe('model schema: attention kinds and MoE lists', () => {
  const issue = (extra: Record<string, unknown>) => {
    const r = ModelSchema.safeParse({ layers: 4, hidden: 64, ffnHidden: 128, heads: 4, vocab: 100, seqLen: 64, ffnType: 'swiglu', ...extra });
    return r.success ? 'ok' : `${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`;
  };
  it.each([
    [{ attention: { pattern: ['chunked', 'full'] } }, 'attention.chunkTokens: pattern has chunked layers: give chunkTokens'],
    [{ attention: { pattern: ['full'], windowTokens: 128 } }, 'attention.windowTokens: windowTokens given but pattern has no sliding layer'],
    [{ attention: { pattern: ['full', 'full', 'full', 'full', 'full'] } }, 'attention.pattern: pattern has 5 entries, more than layers (4)'],
    [{ attention: { pattern: ['local'] } }, 'attention.pattern.0'],
    [{ moe: { experts: 4, topK: 1, expertFfnHidden: 32, layerIndices: [1, 4] } }, 'moe.layerIndices.1: 4 must be below layers (4)'],
    [{ moe: { experts: 4, topK: 1, expertFfnHidden: 32, layerIndices: [2, 2] } }, 'moe.layerIndices.1: 2 must be above the previous index (2): ascending, no repeats'],
    [{ moe: { experts: 4, topK: 1, expertFfnHidden: 32, firstDenseLayers: 1, layerIndices: [2] } }, 'moe.layerIndices: give either layerIndices or moeLayerFrequency/firstDenseLayers, not both'],
    [{ attention: { pattern: ['sliding-nope', 'full'], windowTokens: 16, sinks: true } }, 'ok'],
  ])('%j -> %s', (extra, expected) => {
    expect(issue(extra).startsWith(expected)).toBe(true);
  });

  it('leaves existing model files as they were (no new keys after parsing)', () => {
    for (const name of ['deepseek-v3', 'gpt3-175b', 'llama3-405b', 'llama3-405b-128k', 'llama3-70b', 'llama3-8b', 'tiny']) {
      const parsed = loadProfile('model', name);
      expect('attention' in parsed).toBe(false);
      expect(parsed.moe ? 'layerIndices' in parsed.moe : false).toBe(false);
    }
  });
});

describe('attention span per kind (causal, per-token average, the FLOPs convention)', () => {
  const kind = (attention: LayerKind['attention'], spanTokens: number | null): LayerKind => ({ attention, spanTokens, rope: true, sinks: false, ffn: 'dense' });
  it('hand-worked values', () => {
    expect(attendedKeysPerQuery(kind('full', null), 8192)).toBe(4096);
    // chunk ≥ sequence: full attention
    expect(attendedKeysPerQuery(kind('chunked', 8192), 8192)).toBe(4096);
    expect(attendedKeysPerQuery(kind('chunked', 16384), 8192)).toBe(4096);
    // chunk dividing the sequence: c/2 whatever the sequence
    expect(attendedKeysPerQuery(kind('chunked', 8192), 32768)).toBe(4096);
    expect(attendedKeysPerQuery(kind('chunked', 8192), 262144)).toBe(4096);
    // s = 2·8192 + 4096: (2·8192² + 4096²) / (2·20480) = 150,994,944 / 40,960
    expect(attendedKeysPerQuery(kind('chunked', 8192), 20480)).toBeCloseTo(3686.4, 9);
    // sliding window 128 at 4096: 128 − 128²/(2·4096) = 126
    expect(attendedKeysPerQuery(kind('sliding', 128), 4096)).toBe(126);
    expect(attendedKeysPerQuery(kind('sliding', 8192), 4096)).toBe(2048);
    expect(attentionSpanTokens(kind('sliding', 128), 4096)).toBe(128);
    expect(attentionSpanTokens(kind('chunked', 8192), 4096)).toBe(4096);
    expect(attentionSpanTokens(kind('full', null), 4096)).toBe(4096);
  });

  it('is continuous and never above full attention', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 20 }), fc.integer({ min: 1, max: 1 << 20 }), fc.constantFrom('chunked' as const, 'sliding' as const), (s, span, a) => {
        const v = attendedKeysPerQuery(kind(a, span), s);
        expect(v).toBeLessThanOrEqual(s / 2 + 1e-9);
        expect(v).toBeGreaterThan(0);
        if (span >= s) expect(v).toBe(s / 2);
      }),
    );
    // at span = s both branches meet s/2
    expect(attendedKeysPerQuery(kind('sliding', 4095), 4096)).toBeCloseTo(2048, 0);
    expect(attendedKeysPerQuery(kind('chunked', 4095), 4096)).toBeCloseTo(2047.5, 0);
  });

  it('context parallelism exchanges only what crosses a chunk boundary', () => {
    expect(cpRemoteKeysPerRank(kind('full', null), 8192, 4)).toBe(6144);
    expect(cpRemoteKeysPerRank(kind('chunked', 65536), 8192, 4)).toBe(6144); // chunk ≥ sequence: as full
    expect(cpRemoteKeysPerRank(kind('chunked', 8192), 32768, 4)).toBe(0); // shards of 8192 = one chunk each
    expect(cpRemoteKeysPerRank(kind('chunked', 8192), 32768, 8)).toBe(4096); // shards of 4096: odd ranks need the chunk's first half
    expect(cpRemoteKeysPerRank(kind('sliding', 128), 32768, 4)).toBe(128);
    expect(cpRemoteKeysPerRank(kind('full', null), 8192, 1)).toBe(0);
  });
});

describe('FLOPs per layer kind', () => {
  const full = resolveModel(base());
  const chunked = resolveModel(base({ attention: { pattern: ['chunked'], chunkTokens: 8192, sinks: false } }));
  it('a chunked layer costs the same as full attention when the chunk is at least the sequence', () => {
    // Scout's block at 8192 tokens: 2 · 4096 keys · 40 heads · (128 + 128) per token and layer.
    expect(forwardAttentionFlopsPerToken(full)).toBe(4 * 83_886_080);
    expect(forwardAttentionFlopsPerToken(chunked)).toBe(forwardAttentionFlopsPerToken(full));
    expect(flopsPerToken(chunked)).toEqual(flopsPerToken(full));
  });
  it('scales with the chunk, not the sequence, when the chunk is shorter', () => {
    for (const seqLen of [32768, 65536, 262144]) {
      const f = resolveModel({ ...full, seqLen });
      const c = resolveModel({ ...chunked, seqLen });
      // full: 2 · s/2 · 40 · 256 grows with s; chunked stays at 2 · 4096 · 40 · 256 = 83,886,080 per layer
      expect(forwardAttentionFlopsPerToken(f)).toBe(4 * 2 * (seqLen / 2) * 40 * 256);
      expect(forwardAttentionFlopsPerToken(c)).toBe(4 * 83_886_080);
    }
  });
  it('Llama 4 Scout at 256K: 36 chunked layers at 8K and 12 global NoPE layers (hand-worked)', () => {
    const m = model('llama4-scout');
    expect(m.seqLen).toBe(262144);
    // 36 · 2·4096·40·256 + 12 · 2·131072·40·256
    expect(forwardAttentionFlopsPerToken(m)).toBe(36 * 83_886_080 + 12 * 2_684_354_560);
  });
  it('GPT-OSS 120b at 4K: half the layers see 126 keys on average, half 2048', () => {
    const m = model('gpt-oss-120b');
    expect(forwardAttentionFlopsPerToken(m)).toBe(18 * 2 * 126 * 64 * 128 + 18 * 2 * 2048 * 64 * 128);
  });
  it('per-kind layer FLOPs and parameters add up to the model totals', () => {
    for (const name of ['llama4-maverick', 'gpt-oss-20b', 'mixtral-8x22b', 'llama3-8b', 'gpt3-175b']) {
      const m = model(name);
      const f = flopsPerToken(m);
      const c = countParams(m);
      let matmul = 0;
      let attention = 0;
      let params = 0;
      for (const g of layerKinds(m)) {
        const lf = layerForwardFlopsPerToken(m, g.kind);
        matmul += g.count * lf.matmul;
        attention += g.count * lf.attention;
        params += g.count * layerParams(m, g.kind).total;
        expect(lf.attention).toBe(forwardAttentionFlopsPerLayerToken(m, g.kind));
      }
      expect(attention).toBe(f.forwardAttention);
      // + the LM head matmul (the only matmul outside the layers without MTP)
      expect(matmul + 2 * m.vocab * m.hidden).toBeCloseTo(f.forwardDense, -3);
      expect(params + c.embedding + c.lmHead + c.finalNorm).toBe(c.total);
    }
  });
  it('router: a hidden × experts matmul in every MoE layer, inside the layer matmuls', () => {
    const m = model('mixtral-8x22b');
    expect(routerForwardFlopsPerToken(m)).toBe(2 * 6144 * 8);
    const moeKind = layerKind(m, 0);
    const lp = layerParams(m, moeKind);
    expect(lp.router).toBe(6144 * 8);
    // attention (Q, O 6144², K, V 6144·1024) + 2 experts of 3·6144·16384 + router
    expect(layerForwardFlopsPerToken(m, moeKind).matmul).toBe(2 * (2 * 6144 * 6144 + 2 * 6144 * 1024 + 2 * 3 * 6144 * 16384 + 6144 * 8));
    expect(routerForwardFlopsPerToken(model('llama3-8b'))).toBe(0);
  });
  it('sinks: one parameter per head and layer, no matmul FLOPs', () => {
    const m = model('gpt-oss-120b');
    const noSinks = resolveModel({ ...m, attention: { ...m.attention!, sinks: false } });
    expect(countParams(m).total - countParams(noSinks).total).toBe(36 * 64);
    expect(flopsPerToken(m)).toEqual(flopsPerToken(noSinks));
  });
});

describe('attention kernels the model does not represent', () => {
  it('names attention sinks (cuDNN fused attention: TE runs no FlashAttention for a learnable softmax) and nothing for plain causal models', () => {
    expect(attentionNotModelled(model('gpt-oss-120b'))).toEqual([expect.stringMatching(/^attention sinks on cuDNN fused attention \(costed at/)]);
    for (const name of ['llama4-scout', 'deepseek-v3', 'llama3-8b', 'mixtral-8x22b']) expect(attentionNotModelled(model(name))).toEqual([]);
  });
});

