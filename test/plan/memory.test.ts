import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { activationBytesPerTokenLayer, allocatorSlackFraction, crossEntropyBytesPerLogit, estimateMemory, inFlightMicroBatches, lowPrecisionWeightBytes, savedGemmInputBytes } from '../../src/plan/memory.js';
import { countParams } from '../../src/model/params.js';
import { resolveModel, resolvePlan, type ResolvedPlan } from '../../src/plan/resolve.js';
import { PlanSchema } from '../../src/schema/plan.js';
import { ModelSchema } from '../../src/schema/model.js';
import { GpuSchema } from '../../src/schema/system.js';
import type { Model } from '../../src/schema/model.js';

const gpt: Model = { layers: 48, hidden: 6144, ffnHidden: 24576, heads: 64, vocab: 51200, seqLen: 2048, ffnType: 'gelu', tiedEmbeddings: true, positionEmbedding: 'learned' };
const gpu = GpuSchema.parse({
  name: 'test', peakFlops: { bf16: '312 TFLOP/s' }, hbm: { capacity: '80 GiB', bandwidth: '2 TB/s' },
  efficiency: { gemm: { bf16: [[1, 0.8]] }, attentionForward: 0.6, attentionBackward: 0.5, hbm: 0.8 },
  memory: { reserved: '0 GiB', fragmentation: 0 }, power: { tdp: '400 W' },
});
function plan(over: Record<string, unknown>, model: Model = gpt, gpus = 8): ResolvedPlan {
  const r = resolvePlan(PlanSchema.parse({ globalBatch: 64, ...over }), resolveModel(model), gpus);
  if (!r.plan) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

describe('activations per layer (Korthikanti et al. 2022 Table 2, GPT block, 16-bit)', () => {
  const m = resolveModel(gpt);
  const h = gpt.hidden;
  const a = gpt.heads;
  const s = m.seqLen;
  it('TP + SP, flash attention: 34·h/t bytes per token', () => {
    expect(activationBytesPerTokenLayer(m, { tp: 8, sequenceParallel: true, recompute: 'none', attentionKernel: 'flash' })).toBeCloseTo((34 * h) / 8, 6);
  });
  it('TP without SP: h·(10 + 24/t)', () => {
    expect(activationBytesPerTokenLayer(m, { tp: 8, sequenceParallel: false, recompute: 'none', attentionKernel: 'flash' })).toBeCloseTo(h * (10 + 24 / 8), 6);
  });
  it('materialised attention adds the 5as/h term: h·(34/t + 5as/(ht))', () => {
    expect(activationBytesPerTokenLayer(m, { tp: 8, sequenceParallel: true, recompute: 'none', attentionKernel: 'unfused' })).toBeCloseTo(h * (34 / 8 + (5 * a * s) / (h * 8)), 6);
  });
  it('selective recompute with materialised attention drops exactly that term', () => {
    expect(activationBytesPerTokenLayer(m, { tp: 8, sequenceParallel: true, recompute: 'selective', attentionKernel: 'unfused' })).toBeCloseTo((34 * h) / 8, 6);
  });
  it('without dropout the two 1-byte hidden masks go: 32·h/t with TP + SP (MPT: attn_pdrop = resid_pdrop = 0)', () => {
    expect(activationBytesPerTokenLayer(resolveModel({ ...gpt, dropout: 0 }), { tp: 8, sequenceParallel: true, recompute: 'none', attentionKernel: 'flash' })).toBeCloseTo((32 * h) / 8, 6);
  });
  it('without dropout materialised attention keeps only the softmax, 2as/h instead of 5as/h', () => {
    expect(activationBytesPerTokenLayer(resolveModel({ ...gpt, dropout: 0 }), { tp: 8, sequenceParallel: true, recompute: 'none', attentionKernel: 'unfused' })).toBeCloseTo(h * (32 / 8 + (2 * a * s) / (h * 8)), 6);
  });
  it('full recompute keeps 2·h per token (/t with SP)', () => {
    expect(activationBytesPerTokenLayer(m, { tp: 8, sequenceParallel: true, recompute: 'full', attentionKernel: 'flash' })).toBeCloseTo((2 * h) / 8, 6);
  });
});

describe('activations under fp8 (Transformer Engine saves the quantized GEMM inputs)', () => {
  // Llama-3-70B-like block: h 8192, GQA 64/8 heads of 128 (q 8192, k = v 1024), SwiGLU f 28672, TP 4 + SP.
  const llama: Model = { layers: 80, hidden: 8192, ffnHidden: 28672, heads: 64, kvHeads: 8, vocab: 128256, seqLen: 8192, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope' };
  const m = resolveModel(llama);
  const [h, q, k, f] = [8192, 8192, 1024, 28672];
  const at = (precision: 'bf16' | 'fp8') => activationBytesPerTokenLayer(m, { tp: 4, sequenceParallel: true, recompute: 'none', attentionKernel: 'flash', precision });
  it('bf16: norm inputs and outputs 8h, Q K V, output 2o, gate+up 4f and SwiGLU output 2f, all / t', () => {
    expect(at('bf16')).toBeCloseTo((8 * h + 2 * (q + 2 * k) + 2 * q + 4 * f + 2 * f) / 4, 6);
  });
  it('fp8: norm outputs, the projection input and the SwiGLU output kept at 1 byte (the attention output also stays 16-bit for the kernel)', () => {
    expect(at('fp8')).toBeCloseTo((2 * h + 2 * h + h + h + 2 * (q + 2 * k) + 2 * q + q + 4 * f + f) / 4, 6);
  });
  it('fp4 (NVFP4): those four GEMM inputs kept as 4-bit columnwise data with one E4M3 scale per 16 elements, 0.5625 B', () => {
    const fp4 = activationBytesPerTokenLayer(m, { tp: 4, sequenceParallel: true, recompute: 'none', attentionKernel: 'flash', precision: 'fp4' });
    const g = 0.5 + 1 / 16;
    expect(fp4).toBeCloseTo((2 * h + 2 * h + g * h + g * h + 2 * (q + 2 * k) + 2 * q + g * q + 4 * f + g * f) / 4, 6);
    expect(savedGemmInputBytes({ precision: 'fp8', fp8Recipe: 'mxfp8' })).toBeCloseTo(1 + 1 / 32, 12);
    expect(savedGemmInputBytes({ precision: 'bf16' })).toBe(2);
  });
});

describe('pipeline in-flight micro-batches', () => {
  it('1F1B holds pp on stage 0; interleaving multiplies by 1 + (pp-1)/(pp·vpp); GPipe holds m', () => {
    expect(inFlightMicroBatches({ pp: 8, vpp: 1, schedule: '1f1b', numMicroBatches: 64 })).toBe(8);
    expect(inFlightMicroBatches({ pp: 8, vpp: 4, schedule: 'interleaved-1f1b', numMicroBatches: 64 })).toBeCloseTo(8 * (1 + 7 / 32), 9);
    expect(inFlightMicroBatches({ pp: 8, vpp: 1, schedule: 'gpipe', numMicroBatches: 64 })).toBe(64);
  });
});

describe('ZeRO model states (Rajbhandari et al. 2020, Figure 1: 2Ψ + 2Ψ + KΨ with K = 12)', () => {
  it('stages 0-3 shard optimizer, then gradients, then weights over the DP group', () => {
    const m = resolveModel(gpt);
    const psi = countParams(m).total;
    const states = (zeroStage: number) => {
      const b = estimateMemory(m, plan({ dp: 8, zeroStage, gradientAccumulationFp32: false }), gpu).breakdown;
      return b.weightsBytes + b.gradientsBytes + b.optimizerBytes;
    };
    expect(states(0) / psi).toBeCloseTo(16, 6);
    expect(states(1) / psi).toBeCloseTo(2 + 2 + 12 / 8, 6);
    expect(states(2) / psi).toBeCloseTo(2 + 14 / 8, 6);
    // PyTorch FSDP: the sharded parameter is the fp32 master (4 B), beside Adam's moments (8 B).
    expect(states(3) / psi).toBeCloseTo((4 + 2 + 8) / 8, 6);
  });
});

describe('weights under fp8 (Transformer Engine)', () => {
  const m = resolveModel(gpt);
  const psi = countParams(m).total;
  const emb = countParams(m).embedding;
  const w = (over: Record<string, unknown>) => estimateMemory(m, plan({ dp: 8, ...over }), gpu).breakdown.weightsBytes / psi;
  // Block weights at b bytes per parameter; the (tied) embedding stays 16-bit: it runs outside TE (DeepSeek-V3 §3.3.1 likewise).
  const blocks = (b: number) => (b * (psi - emb) + 2 * emb) / psi;
  it('bf16 weights and TE fp8 weight + transpose workspaces: 2 + 2 B per block parameter, the embedding 2 B', () => {
    expect(w({ zeroStage: 1, precision: 'bf16' })).toBeCloseTo(2, 9);
    expect(w({ zeroStage: 1, precision: 'fp8' })).toBeCloseTo(blocks(4), 9);
  });
  it('fp8 primary weights (Megatron --fp8-param-gather): fp8 data and transpose only, 2 B', () => {
    expect(w({ zeroStage: 1, precision: 'fp8', fp8PrimaryWeights: true })).toBeCloseTo(blocks(2), 9);
  });
  it('Blackwell (compute capability 10.0) takes non-TN fp8 GEMMs: per-tensor fp8 keeps no transpose (TE is_non_tn_fp8_gemm_supported)', () => {
    const blackwell = { ...gpu, computeCapability: 10.0 };
    const wb = (over: Record<string, unknown>) => estimateMemory(m, plan({ dp: 8, zeroStage: 1, precision: 'fp8', ...over }), blackwell).breakdown.weightsBytes / psi;
    expect(wb({ fp8PrimaryWeights: true })).toBeCloseTo(blocks(1), 9);
    expect(wb({})).toBeCloseTo(blocks(3), 9);
    expect(lowPrecisionWeightBytes({ precision: 'fp8', fp8Recipe: 'tensorwise' }, { computeCapability: 9.0 })).toBe(2);
    expect(lowPrecisionWeightBytes({ precision: 'fp8', fp8Recipe: 'delayed' }, { computeCapability: 12.0 })).toBe(2);
  });
  it('MXFP8 keeps rowwise and columnwise data with one E8M0 scale per 32 elements on every GPU; NVFP4 4-bit data and an E4M3 scale per 16, both ways', () => {
    expect(lowPrecisionWeightBytes({ precision: 'fp8', fp8Recipe: 'mxfp8' }, { computeCapability: 10.0 })).toBeCloseTo(2 + 2 / 32, 12);
    expect(lowPrecisionWeightBytes({ precision: 'fp8', fp8Recipe: 'mxfp8' }, { computeCapability: 9.0 })).toBeCloseTo(2 + 2 / 32, 12);
    expect(lowPrecisionWeightBytes({ precision: 'fp4' }, { computeCapability: 10.0 })).toBeCloseTo(1 + 2 / 16, 12);
    expect(w({ zeroStage: 1, precision: 'fp4' })).toBeCloseTo(blocks(2 + 1.125), 9);
    expect(lowPrecisionWeightBytes({ precision: 'bf16' })).toBe(0);
  });
  it('ZeRO-3 (FSDP) keeps the fp32 master shard and casts per gathered unit: no persistent 16-bit or fp8 copy', () => {
    expect(w({ zeroStage: 3, precision: 'fp8' })).toBeCloseTo(4 / 8, 9);
    expect(w({ zeroStage: 3, precision: 'bf16' })).toBeCloseTo(4 / 8, 9);
  });
});

describe('CPU activation offload (Megatron cpu_offloading_num_layers)', () => {
  it('offloading 24 of 48 layers keeps the other 24 on the GPU; the last one copied out is freed before the loss; the embedding dropout mask stays', () => {
    const m = resolveModel(gpt);
    const base = plan({ tp: 8, dp: 1, globalBatch: 64 });
    const perLayer = activationBytesPerTokenLayer(m, base) * 2048;
    // Korthikanti et al. 2022 §4.3: the input-embedding dropout mask, 1 byte per element, sbh/t with SP
    const embeddingMask = (gpt.hidden / 8) * 2048;
    expect(estimateMemory(m, base, gpu).breakdown.activationsBytes).toBeCloseTo(48 * perLayer + embeddingMask, 0);
    const off = estimateMemory(m, plan({ tp: 8, dp: 1, globalBatch: 64, offloadLayers: 24 }), gpu).breakdown;
    expect(off.logitsBytes).toBeGreaterThan(perLayer);
    expect(off.activationsBytes).toBeCloseTo(24 * perLayer + embeddingMask, 0);
  });
  it('with pipeline stages, one offloaded layer per rank is still being copied out, not one per micro-batch held', () => {
    const m = resolveModel(gpt);
    const p = plan({ tp: 8, pp: 4, dp: 1, globalBatch: 64, offloadLayers: 6 }, gpt, 32);
    const perLayer = activationBytesPerTokenLayer(m, p) * 2048;
    const e = estimateMemory(m, p, gpu);
    // stage 1: 12 layers, 6 offloaded, 1F1B holds pp − 1 = 3 micro-batches: 3·6 layers + 1 in transfer
    const s1 = estimateMemory(m, plan({ tp: 8, pp: 4, dp: 1, globalBatch: 64 }, gpt, 32), gpu).perStageBytes[1] - e.perStageBytes[1];
    const slack = 1 + gpu.memory.fragmentation;
    expect(s1).toBeCloseTo((3 * 12 - (3 * 6 + 1)) * perLayer * slack, -2);
  });
});

describe('memory properties', () => {
  it('per-GPU memory does not grow when TP or PP grows (fast-check)', () => {
    const model: Model = { layers: 32, hidden: 4096, ffnHidden: 11008, heads: 32, kvHeads: 8, vocab: 32000, seqLen: 4096, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope' };
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 4), fc.constantFrom(1, 2, 4), fc.constantFrom(0, 1, 2, 3), fc.constantFrom('none', 'selective', 'full'), (tp, pp, zeroStage, recompute) => {
        const mem = (t: number, p: number) => estimateMemory(resolveModel(model), plan({ tp: t, pp: p, dp: 1, zeroStage, recompute, globalBatch: 32 }, model, t * p), gpu).perGpuBytes;
        expect(mem(tp * 2, pp)).toBeLessThanOrEqual(mem(tp, pp) * (1 + 1e-9));
        expect(mem(tp, pp * 2)).toBeLessThanOrEqual(mem(tp, pp) * (1 + 1e-9));
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe('memory uses the schedule simulator\'s in-flight counts', () => {
  it('inFlightMicroBatches equals the DES schedule formula on every stage (sweep)', async () => {
    const { inFlightFormula } = await import('../../src/plan/pipeline.js');
    for (const schedule of ['1f1b', 'interleaved-1f1b', 'gpipe'] as const)
      for (const pp of [2, 4, 8, 16])
        for (const vpp of schedule === 'interleaved-1f1b' ? [2, 4, 8] : [1])
          for (const m of [pp, 2 * pp, 4 * pp, pp + 1, 2 * pp + 3, 3 * pp - 1]) // pp not dividing m too (review §2.4)
            for (let s = 0; s < pp; s++)
              expect(inFlightMicroBatches({ pp, vpp, schedule, numMicroBatches: m }, s), `${schedule} pp${pp} vpp${vpp} m${m} s${s}`).toBeCloseTo(inFlightFormula(schedule, pp, vpp, m, s), 9);
  });
});

describe('logits working set by loss kernel', () => {
  // GPT-3 175B-like block above, vocab 51,200, seq 2,048, micro-batch 2, TP 8, PP 1: 4,096 tokens
  // x 51,200 logits / 8 = 26,214,400 logits per GPU.
  const m = resolveModel(gpt);
  const logits = (crossEntropy: string) => estimateMemory(m, plan({ tp: 8, dp: 1, microBatch: 2, globalBatch: 64, crossEntropy }), gpu).breakdown.logitsBytes;
  it('fp32-upcast: log_softmax output + its incoming and outgoing fp32 gradients = 12 B per logit (torchtitan pred.float())', () => {
    expect(logits('fp32-upcast')).toBe(26_214_400 * 12);
  });
  it('vocab-parallel: Megatron fp32 softmax in place + bf16 gradient = 6 B per logit', () => {
    expect(logits('vocab-parallel')).toBe(26_214_400 * 6);
  });
  it('fused: flash-attn xentropy keeps bf16 logits and a bf16 gradient = 4 B per logit (llm-foundry MPT default)', () => {
    expect(logits('fused')).toBe(26_214_400 * 4);
  });
  it('defaults to fp32-upcast', () => {
    expect(estimateMemory(m, plan({ tp: 8, dp: 1, microBatch: 2, globalBatch: 64 }), gpu).breakdown.logitsBytes).toBe(26_214_400 * 12);
  });
});

describe('working set of the layer in its backward', () => {
  // GPT block above with a 16-token vocabulary so the loss is negligible; TP 8 with SP, micro-batch 1, 2,048 tokens.
  const small = resolveModel({ ...gpt, vocab: 16 });
  const h = gpt.hidden;
  const f = gpt.ffnHidden;
  const tokens = 2048;
  const logits = (crossEntropyBytes: number) => (crossEntropyBytes * tokens * 16) / 8;
  const transient = (recompute: string) => estimateMemory(small, plan({ tp: 8, dp: 1, recompute, globalBatch: 64 }, { ...gpt, vocab: 16 }), gpu).breakdown.transientBytes;
  it('no recompute: only the FFN intermediates\' gradients, (2f + 2f)/t per token, less the freed logits', () => {
    expect(transient('none')).toBeCloseTo(((4 * f) / 8) * tokens - logits(crossEntropyBytesPerLogit['fp32-upcast']), 3);
  });
  it('full recompute: one rematerialised layer (34h/t less the stored 2h/t, Korthikanti Table 2) plus those gradients', () => {
    expect(transient('full')).toBeCloseTo(((34 * h - 2 * h) / 8 + (4 * f) / 8) * tokens - logits(crossEntropyBytesPerLogit['fp32-upcast']), 3);
  });
  it('the logits and the layer working set never add: with a large vocabulary the working set hides under the loss', () => {
    expect(estimateMemory(resolveModel(gpt), plan({ tp: 8, dp: 1, recompute: 'none', globalBatch: 64 }), gpu).breakdown.transientBytes).toBe(0);
  });
});

describe('allocator slack', () => {
  const slack = { ...gpu, memory: { ...gpu.memory, fragmentation: 0.05 } };
  it('the profile fragmentation by default; none with expandable segments (PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True)', () => {
    expect(allocatorSlackFraction({}, slack)).toBe(0.05);
    expect(allocatorSlackFraction({ expandableSegments: true }, slack)).toBe(0);
    const m = resolveModel(gpt);
    const e0 = estimateMemory(m, plan({ dp: 8 }), slack);
    const e1 = estimateMemory(m, plan({ dp: 8, expandableSegments: true }), slack);
    expect(e1.breakdown.fragmentationBytes).toBe(0);
    expect(e0.perGpuBytes - e1.perGpuBytes).toBeCloseTo(e0.breakdown.fragmentationBytes, 0);
  });
});

describe('DeepSeek-V3 low-precision storage (§3.3.3)', () => {
  // A DeepSeek-like MoE block without MLA: h 1024, 8 heads of 128, 16 experts of 512, top-2, no shared expert, SwiGLU.
  const m = resolveModel(ModelSchema.parse({ layers: 8, hidden: 1024, ffnHidden: 4096, heads: 8, vocab: 32000, seqLen: 4096, ffnType: 'swiglu', tiedEmbeddings: false, positionEmbedding: 'rope', moe: { experts: 16, topK: 2, expertFfnHidden: 512 } }));
  const base = { tp: 1, sequenceParallel: false, recompute: 'none', attentionKernel: 'flash', precision: 'fp8' } as const;
  it('FP8 activation cache: the MoE SwiGLU input at 1 B instead of 2 (2f fewer bytes), the attention output once in E5M6 (1.5 B instead of 2 + 1)', () => {
    const f = 2 * 512;
    const o = 8 * 128;
    const plain = activationBytesPerTokenLayer(m, base, true);
    const cached = activationBytesPerTokenLayer(m, { ...base, fp8ActivationCache: true }, true);
    expect(plain - cached).toBeCloseTo(2 * f + (3 - 1.5) * o, 9);
    // bf16 runs ignore it
    expect(activationBytesPerTokenLayer(m, { ...base, precision: 'bf16', fp8ActivationCache: true }, true)).toBe(activationBytesPerTokenLayer(m, { ...base, precision: 'bf16' }, true));
  });
  it('BF16 Adam moments: fp32 master + 2 + 2 B = 8 B per parameter (ZeRO-3: 4 B beside the fp32 shard)', () => {
    const r = resolveModel(gpt);
    const psi = countParams(r).total;
    expect(estimateMemory(r, plan({ dp: 8, zeroStage: 0, optimizerMoments: 'bf16' }), gpu).breakdown.optimizerBytes / psi).toBeCloseTo(8, 9);
    expect(estimateMemory(r, plan({ dp: 8, zeroStage: 0 }), gpu).breakdown.optimizerBytes / psi).toBeCloseTo(12, 9);
    expect(estimateMemory(r, plan({ dp: 8, zeroStage: 3, optimizerMoments: 'bf16' }), gpu).breakdown.optimizerBytes / (psi / 8)).toBeCloseTo(4, 9);
  });
});

describe('DualPipe memory (DeepSeek-V3 §3.2.1, Table 2)', () => {
  it('rank s holds pp − s micro-batches of stage s and s + 1 of stage pp − 1 − s (PP + 1 in all); rank 0 also computes the loss of the micro-batches fed from the far end', () => {
    const r = resolveModel(gpt);
    const p = plan({ pp: 4, dp: 2, schedule: 'dualpipe', layersPerStage: [10, 12, 12, 14] }, gpt, 8);
    const e = estimateMemory(r, p, gpu);
    const per = activationBytesPerTokenLayer(r, p) * 2048;
    const emb = 6144 * 2048; // the embedding dropout mask, 1 byte per element (Korthikanti et al. 2022 §4.3)
    expect(e.inFlightMicroBatches).toBe(5);
    // ranks 0 and 3 hold the same two stages in mirrored counts and both compute a loss
    expect(e.perStageBytes[0]).toBeCloseTo(e.perStageBytes[3], -3);
    expect([0, 3]).toContain(e.peakStage);
    // rank 0: 4 micro-batches of stage 0 (10 layers and the embedding dropout mask), 1 of stage 3 (14 layers)
    expect(e.breakdown.activationsBytes).toBeCloseTo(4 * (10 * per + emb) + 14 * per, -3);
    expect(e.breakdown.logitsBytes).toBeGreaterThan(0);
  });
});
