import { describe, it, expect } from 'vitest';
import { countParams, attentionProjectionParams } from '../../src/model/params.js';
import { flopsPerToken, forwardAttentionFlopsPerToken, activeMatmulParams } from '../../src/model/flops.js';
import { resolveModel } from '../../src/plan/resolve.js';
import type { Model } from '../../src/schema/model.js';
import { loadProfile } from '../../src/io/load.js';

const llama = (layers: number, hidden: number, ffnHidden: number, heads: number): Model => ({
  layers, hidden, ffnHidden, heads, kvHeads: 8, vocab: 128256, seqLen: 8192, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope',
});
const gpt3: Model = { layers: 96, hidden: 12288, ffnHidden: 49152, heads: 96, vocab: 51200, seqLen: 2048, ffnType: 'gelu', tiedEmbeddings: true, positionEmbedding: 'learned' };

describe('parameter counts', () => {
  // Llama 3 paper Table 3 (layers, model dim, FFN dim, heads, 8 KV heads, 128K vocab).
  it.each([
    ['405B', llama(126, 16384, 53248, 128), 405e9],
    ['70B', llama(80, 8192, 28672, 64), 70.6e9],
    ['8B', llama(32, 4096, 14336, 32), 8.03e9],
  ])('Llama 3 %s within 1%% of the published size', (_n, m, published) => {
    expect(Math.abs(countParams(resolveModel(m)).total / published - 1)).toBeLessThan(0.01);
  });

  it('GPT-3 175B within 1% (Brown et al. 2020 Table 2.1)', () => {
    expect(Math.abs(countParams(resolveModel(gpt3)).total / 175e9 - 1)).toBeLessThan(0.01);
  });

  it('tied embeddings drop exactly the LM head', () => {
    const untied = countParams(resolveModel({ ...gpt3, tiedEmbeddings: false })).total;
    expect(untied - countParams(resolveModel(gpt3)).total).toBe(51200 * 12288);
  });

  it('MoE: active counts top-k experts, total counts all (DeepSeek-V3-like block)', () => {
    const m = resolveModel({ ...llama(4, 1024, 4096, 8), moe: { experts: 16, topK: 2, expertFfnHidden: 512, sharedExperts: 1, moeLayerFrequency: 1, firstDenseLayers: 1 } });
    const c = countParams(m);
    expect(c.moeLayers).toBe(3);
    expect(c.total - c.active).toBe(3 * 14 * 3 * 1024 * 512);
  });
});

describe('FLOPs per token', () => {
  it('matches Korthikanti et al. 2022 eq. 7 (full attention) for GPT-3 175B within 1%', () => {
    // model FLOPs per token = 72·L·h²·(1 + s/(6h) + V/(12hL)), full attention, LM head included.
    const { layers: L, hidden: h, seqLen: s, vocab: V } = resolveModel(gpt3);
    const eq7 = 72 * L * h * h * (1 + s / (6 * h) + V / (12 * h * L));
    expect(Math.abs(flopsPerToken(resolveModel(gpt3)).modelFullAttention / eq7 - 1)).toBeLessThan(0.01);
  });

  it('is 6N plus causal attention (PaLM App. B halved by the causal mask)', () => {
    const m = resolveModel(llama(126, 16384, 53248, 128));
    const f = flopsPerToken(m);
    const attention = (12 * 126 * 128 * 128 * 8192) / 2;
    expect(f.model - 3 * f.forwardDense).toBeCloseTo(attention, -6);
    expect(f.modelFullAttention - f.model).toBeCloseTo(attention, -6);
  });

  it('full recompute adds one forward pass to hardware FLOPs (HFU)', () => {
    const m = resolveModel(gpt3);
    const f = flopsPerToken(m, 'full');
    expect(f.hardware / f.model).toBeCloseTo(4 / 3, 6);
    const sel = flopsPerToken(m, 'selective', 'unfused');
    expect(sel.hardware - sel.model).toBeCloseTo(sel.forwardAttention, 0);
  });
});

describe('multi-token prediction (DeepSeek-V3 §2.2)', () => {
  // DeepSeek-V3 as the validation cases describe it (MLA approximated by per-head K/V).
  const ds: Model = {
    layers: 61, hidden: 7168, ffnHidden: 18432, heads: 128, kvHeads: 128, vocab: 129280, seqLen: 4096, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope',
    moe: { experts: 256, topK: 8, expertFfnHidden: 2048, sharedExperts: 1, moeLayerFrequency: 1, firstDenseLayers: 3 },
  };
  it('the main model is 671B and one MTP module ~14B with its embedding and head copies (DeepSeek-V3 README: 685B = 671B + 14B)', () => {
    const main = countParams(resolveModel(ds));
    const withMtp = countParams(resolveModel({ ...ds, mtpLayers: 1 }));
    expect(Math.abs(main.total / 671e9 - 1)).toBeLessThan(0.01);
    expect(withMtp.total - main.total).toBe(withMtp.mtpModule);
    expect(Math.abs((withMtp.mtpModule + withMtp.embedding + withMtp.lmHead) / 14e9 - 1)).toBeLessThan(0.05);
  });
  it('adds its block, the 2h→h projection and another LM head pass to the FLOPs per token', () => {
    const a = flopsPerToken(resolveModel(ds));
    const b = flopsPerToken(resolveModel({ ...ds, mtpLayers: 1 }));
    const c = countParams(resolveModel({ ...ds, mtpLayers: 1 }));
    // Matmul weights of the module: everything but its five norm gains (two input norms, two
    // block norms, the final one), plus the shared head run again.
    expect(b.forwardDense - a.forwardDense).toBe(2 * (c.mtpModuleActive - 5 * 7168) + 2 * 7168 * 129280);
    expect(b.forwardAttention / a.forwardAttention).toBeCloseTo(62 / 61, 12);
  });
});

describe('multi-head latent attention (DeepSeek-V3 §2.1.1, config q_lora_rank 1536, kv_lora_rank 512, qk 128 + rope 64, v 128)', () => {
  const ds: Model = {
    layers: 61, hidden: 7168, ffnHidden: 18432, heads: 128, vocab: 129280, seqLen: 4096, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope',
    moe: { experts: 256, topK: 8, expertFfnHidden: 2048, sharedExperts: 1, moeLayerFrequency: 1, firstDenseLayers: 3 },
    mla: { qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 },
  };
  it('counts the low-rank projections: 187.1M per layer by hand, 671B total and 37B active (DeepSeek-V3 abstract)', () => {
    const m = resolveModel(ds);
    // q: 7168·1536 + 1536 (norm) + 1536·128·192; kv: 7168·(512+64) + 512 (norm) + 512·128·(128+128); o: 128·128·7168
    const byHand = 7168 * 1536 + 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 + 512 * 128 * 256 + 128 * 128 * 7168;
    expect(byHand).toBe(187_107_328);
    expect(attentionProjectionParams(m)).toBe(byHand);
    const c = countParams(m);
    expect(Math.abs(c.total / 671e9 - 1)).toBeLessThan(0.01);
    expect(Math.abs(c.active / 37e9 - 1)).toBeLessThan(0.03);
  });
  it('counts attention scores over qk 192 and v 128 per head, not hidden/heads = 56', () => {
    const m = resolveModel(ds);
    expect(m.kvHeads).toBe(128);
    // Per layer and token, causal: QKᵀ 2·(s/2)·128·192 + AV 2·(s/2)·128·128.
    const perLayer = 2 * 2048 * 128 * 192 + 2 * 2048 * 128 * 128;
    expect(forwardAttentionFlopsPerToken(m)).toBe(61 * perLayer);
    const mha56 = forwardAttentionFlopsPerToken(resolveModel({ ...ds, mla: null, kvHeads: 128 }));
    expect(forwardAttentionFlopsPerToken(m) / mha56).toBeCloseTo(320 / 112, 12);
  });
  it('leaves the latent norms out of the matmul weights', () => {
    const m = resolveModel(ds);
    const c = countParams(m);
    const lookup = 129280 * 7168;
    const norms = 7168 * (2 * 61 + 1) + (1536 + 512) * 61;
    expect(activeMatmulParams(m)).toBe(c.active - lookup - c.lmHead + 129280 * 7168 - norms);
  });
});

describe('MoE models of issue 15 within 2 % of their published sizes (models/*.yaml, text model only)', () => {
  const load = (name: string) => countParams(resolveModel(loadProfile('model', name)));
  const within = (got: number, published: number) => expect(Math.abs(got / published - 1)).toBeLessThan(0.02);
  // Meta, "The Llama 4 herd" (5 Apr 2025); Mistral AI, "Cheaper, Better, Faster, Stronger" (17 Apr 2024); the Llama 4
  // totals include the ~1B vision encoder, which text_config leaves out.
  it.each([
    ['llama4-scout', 109e9, 17e9],
    ['llama4-maverick', 400e9, 17e9],
    ['mixtral-8x22b', 141e9, 39e9],
  ])('%s: total and active', (name, total, active) => {
    const c = load(name);
    within(c.total, total);
    within(c.active, active);
  });
  it('GPT-OSS: 117B / 5.1B and 21B / 3.6B (gpt-oss model card, arXiv 2508.10925), active counted without the input embedding as the card does', () => {
    for (const [name, total, active] of [['gpt-oss-120b', 117e9, 5.1e9], ['gpt-oss-20b', 21e9, 3.6e9]] as const) {
      const c = load(name);
      within(c.total, total);
      within(c.active - c.embedding, active);
    }
  });
  it('Llama 4 Behemoth: the chosen shape lands on Meta\'s 288B active of "nearly two trillion"', () => {
    const c = load('llama4-behemoth');
    within(c.active, 288e9);
    within(c.total, 2e12);
  });
  it('Maverick by hand: 24 MoE layers (128 experts + shared + router) and 24 dense layers of 16384', () => {
    const c = load('llama4-maverick');
    const attn = 2 * 5120 * 5120 + 2 * 5120 * 1024 + 5120; // Q, O, K, V and the norm
    const expert = 3 * 5120 * 8192;
    const moeLayer = attn + 129 * expert + 5120 * 128 + 5120;
    const denseLayer = attn + 3 * 5120 * 16384 + 5120;
    expect(c.total).toBe(24 * moeLayer + 24 * denseLayer + 2 * 202048 * 5120 + 5120);
  });
});
