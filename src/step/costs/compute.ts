/**
 * Compute kernels of one micro-batch on one GPU: GEMMs (with fp8/fp4 casts), MLA, attention,
 * memory-bound elementwise ops, the MoE experts and router, embedding and LM head, and the
 * optimizer step. Durations come from the GPU profile (system/compute.ts).
 */
import type { Scenario } from '../../plan/resolve.js';
import type { ParallelLayout } from '../../plan/layout.js';
import { attentionWidths } from '../../model/resolved.js';
import { attendedKeysPerQuery, attentionSpanTokens, type LayerKind } from '../../model/layers.js';
import { sharedExpertsFfnTotal } from '../../model/params.js';
import { gemmSeconds, gemmShapeSeconds, attentionSeconds, memoryBoundSeconds } from '../../system/compute.js';
import { cudnnSinkAttentionSeconds } from './attention.js';
import type { Gpu } from '../../schema/system.js';
import type { ResolvedPlan } from '../../plan/resolve.js';
import { fp8NonTnGemm } from '../../plan/memory.js';

/** The routed and shared experts and the router of one MoE layer, forward. */
export interface MoeCompute {
  /** Routed experts + shared experts + router GEMMs. */
  fwd: number;
  /** Activation and permute/unpermute traffic of the routed tokens. */
  elem: number;
  /** The shared experts' GEMMs alone. */
  shared: number;
  /** Tokens one rank routes: the sequence-parallel shard with expert-TP. */
  tokensIn: number;
}

export interface ComputeKernels {
  /** Forward time of an FFN of inner size ffn split `shard` ways for `tokens` tokens. */
  mlpGemm: (tokens: number, ffn: number, shard: number) => number;
  /** Memory-bound time of an FFN activation over `tokens` tokens. */
  actSeconds: (tokens: number, ffn: number, shard: number) => number;
  mlaUpProj: number;
  /** Attention projections (QKV or MLA, and output). */
  attnProj: number;
  denseMlp: number;
  /** The matmuls op-level SAC re-runs: K, the output projection and the FFN up projection. */
  opSacRecomputeGemms: number;
  /** Attention kernels of a full causal layer (the model's default). */
  attnFwd: number;
  attnBwd: number;
  /** Attention kernels of a layer of this kind: its span (chunk or window) sets the work (layers.ts attendedKeysPerQuery). */
  attention: (kind: LayerKind) => { fwd: number; bwd: number };
  elemDense: number;
  elemMoeUnrouted: number;
  normSeconds: number;
  ropeSeconds: number;
  sharedFfnTotal: number;
  moe: MoeCompute | null;
  lmHeadFwd: number;
  embedFwd: number;
  /** An MTP module's 2h→h projection. */
  mtpProj: number;
}

/** The compute kernels of one micro-batch for a resolved scenario. */
export function computeKernels(sc: Scenario, layout: ParallelLayout): ComputeKernels {
  const { model, plan, gpu } = sc;
  const { tp, ep, etp, spDivisor: spDiv } = layout;
  const microBatch = plan.microBatch;
  const precision = plan.precision;
  const h = model.hidden;
  const s = model.seqLen;
  const w = attentionWidths(model);
  const T = layout.tokensPerMicroBatch;
  const cp = layout.cp;
  // fp8/fp4 GEMMs first quantise their 16-bit operands: memory-bound kernels whose traffic
  // depends on the recipe and the stack (lowPrecisionCastSeconds).
  const gemm = (m: number, k: number, n: number) => gemmShapeSeconds(gpu, precision, m, k, n) + lowPrecisionCastSeconds(gpu, plan, m, k, n);
  // Forward GEMM time of the attention projections and a dense MLP for T tokens on one GPU.
  // MLA: the down-projections (to the query and key/value latents) run whole on every TP rank, the
  // up-projections split by heads; otherwise one fused QKV projection split by heads.
  const mla = model.mla;
  const mlaUpProj = mla ? (mla.qLoraRank > 0 ? gemm(T, mla.qLoraRank, w.q / tp) : 0) + gemm(T, mla.kvLoraRank, (model.heads * (mla.qkNopeHeadDim + mla.vHeadDim)) / tp) : 0;
  const qkvProj = mla
    ? (mla.qLoraRank > 0 ? gemm(T, h, mla.qLoraRank) : gemm(T, h, w.q / tp)) + gemm(T, h, mla.kvLoraRank + mla.qkRopeHeadDim) + mlaUpProj
    : gemm(T, h, (w.q + w.k + w.v) / tp);
  const attnProj = qkvProj + gemm(T, w.o / tp, h);
  const mlpGemm = (tokens: number, ffn: number, shard: number) =>
    model.ffnType === 'swiglu' ? gemm(tokens, h, (2 * ffn) / shard) + gemm(tokens, ffn / shard, h) : gemm(tokens, h, ffn / shard) + gemm(tokens, ffn / shard, h);
  const denseMlp = mlpGemm(T, model.ffnHidden, tp);
  // op-level SAC re-runs the unsaved matmuls: K, the output projection and the FFN up projection.
  const opSacRecomputeGemms = gemm(T, h, w.k / tp) + gemm(T, w.o / tp, h) + gemm(T, h, model.ffnHidden / tp);
  // Causal attention over the full sequence, split over TP heads and CP ranks (load-balanced chunks).
  // QKᵀ over qkHeadDim and AV over vHeadDim, 2 FLOPs per multiply-add, halved by the causal mask.
  const attnFlopsFull = (2 * microBatch * s * s * (model.heads / tp) * (model.qkHeadDim + model.vHeadDim) * 0.5) / cp;
  // A chunked or sliding layer attends attendedKeysPerQuery keys per query instead of s/2 (the
  // ratio is exactly 1 for full attention, so full layers keep the full-sequence figures).
  const attentionFor = (keysRatio: number, scoresRatio: number): { fwd: number; bwd: number } => {
    const attnFlops = attnFlopsFull * keysRatio;
    if (plan.attentionKernel === 'unfused') {
      // Materialised attention (Megatron 2022): full (not causal) QKᵀ and AV as batched GEMMs, then
      // softmax, mask and dropout over b·a·s² 16-bit scores in HBM (b·a·s·span for a chunked or
      // sliding layer: the block-diagonal or banded scores). Bytes per score, forward: QKᵀ
      // writes 2, softmax reads 2 and writes 2, dropout reads 2 and writes 2 plus a 1-byte mask, AV
      // reads 2 (13). Backward: the AV gradient reads the dropout output 2 and writes 2, dropout
      // reads 2 + mask 1 and writes 2, softmax reads 2 + its output 2 and writes 2, QKᵀ's gradient
      // reads 2 (21).
      const scores = ((microBatch * (model.heads / tp) * s * s) / cp) * scoresRatio;
      // The batched QKᵀ and AV GEMMs at their math time: their scores traffic, which bounds them
      // from below on the memory side, is itemised beside them (not gemmShapeSeconds's roofline).
      const bmm = gemmSeconds(gpu, 'bf16', 2 * attnFlops);
      return { fwd: bmm + memoryBoundSeconds(gpu, 13 * scores), bwd: 2 * bmm + memoryBoundSeconds(gpu, 21 * scores) };
    }
    // Flash-attention backward does 2.5× the forward FLOPs (it recomputes QKᵀ; Dao 2023 §3).
    return { fwd: attentionSeconds(gpu, attnFlops, 'forward', plan.attentionKernel), bwd: attentionSeconds(gpu, 2.5 * attnFlops, 'backward', plan.attentionKernel) };
  };
  const full = attentionFor(1, 1);
  const attnFwd = full.fwd;
  const attnBwd = full.bwd;
  const byKind = new Map<string, { fwd: number; bwd: number }>();
  const attention = (kind: LayerKind) => {
    const fullSpan = kind.spanTokens === null || kind.spanTokens >= s;
    if (fullSpan && !kind.sinks) return full;
    const key = `${kind.attention}-${kind.spanTokens}-${kind.sinks}`;
    let a = byKind.get(key);
    if (!a) {
      const keysRatio = fullSpan ? 1 : attendedKeysPerQuery(kind, s) / (s / 2);
      // Sinks: cuDNN fused attention at the profile's measured figures (costs/attention.ts).
      a = (plan.attentionKernel === 'unfused' ? null : cudnnSinkAttentionSeconds(gpu, kind, s, model.qkHeadDim, attnFlopsFull * keysRatio)) ?? (fullSpan ? full : attentionFor(keysRatio, attentionSpanTokens(kind, s) / s));
      byKind.set(key, a);
    }
    return a;
  };
  // Memory-bound kernels per token (bytes, bf16): two norms (read+write h), two residual adds
  // (read 2h, write h), RoPE on Q and K, and the FFN activation (SwiGLU reads 2f, writes f).
  // RoPE rotates Q and K in place (read + write); learned positions are added once at the embedding.
  // Eager PyTorch runs each op of the decomposition as its own kernel through HBM (torchtitan's
  // Llama modules, Dec 2024): RMSNorm upcasts to fp32 (read 2, write 4), squares (4+4), takes the
  // row mean (read 4), scales (4+4), casts back (4+2) and multiplies by the weight (2+2): 36 bytes
  // per element against 4 fused. RoPE via complex multiply: upcast (2+4), multiply (4+4), cast
  // back (4+2): 20 against 4. SwiGLU: silu (2+2) then the product (4+2): 10 per f against 6.
  const eager = plan.elementwise === 'eager';
  const normBytesPerElement = eager ? 36 : 2 * 2;
  const ropeBytesPerElement = eager ? 20 : 2 * 2;
  // MLA rotates only the rope part: qkRopeHeadDim per query head and one key part shared by all heads.
  const ropeWidth = mla ? (model.heads * mla.qkRopeHeadDim) / tp + mla.qkRopeHeadDim : (w.q + w.k) / tp;
  const ropeBytes = model.positionEmbedding === 'rope' ? ropeBytesPerElement * ropeWidth : 0;
  const activationBytesPerElement = model.ffnType === 'swiglu' ? (eager ? 10 : 3 * 2) : 2 * 2;
  const elementwiseBytes = (ffn: number, shard: number) =>
    T * ((2 * normBytesPerElement * h + 2 * 3 * 2 * h) / spDiv + ropeBytes + activationBytesPerElement * (ffn / shard));
  const elemDense = memoryBoundSeconds(gpu, elementwiseBytes(model.ffnHidden, tp));
  // A MoE layer has no dense FFN: its unrouted activation is the shared experts' (the routed
  // experts' activation and permutation traffic are in moe.elem).
  const sharedFfnTotal = sharedExpertsFfnTotal(model);
  const elemMoeUnrouted = memoryBoundSeconds(gpu, elementwiseBytes(sharedFfnTotal, tp));
  // Pieces that Megatron's recompute_modules re-run (plan.recomputeModules).
  const normSeconds = memoryBoundSeconds(gpu, (T * 2 * normBytesPerElement * h) / spDiv);
  const ropeSeconds = memoryBoundSeconds(gpu, T * ropeBytes);
  const actSeconds = (tokens: number, ffn: number, shard: number) => memoryBoundSeconds(gpu, tokens * activationBytesPerElement * (ffn / shard));

  let moeCompute: MoeCompute | null = null;
  const moe = model.moe;
  if (moe) {
    // Megatron's token dispatcher works on the sequence-parallel shard: with expert-TP etp < tp
    // each rank routes T·etp/tp tokens and holds whole (etp-split) experts.
    const tokensIn = (T * etp) / tp;
    // The busiest EP rank's experts get expertLoad × the mean (plan.moeRouting; 1 when balanced).
    const load = layout.expertLoad;
    const tokensPerExpert = ((tokensIn * moe.topK * ep) / moe.experts) * load;
    const expertsLocal = moe.experts / ep;
    // Grouped GEMMs tile each expert's problem separately, so efficiency follows the per-expert
    // size (tokens routed to one expert), not the size of the whole group.
    const experts = expertsLocal * mlpGemm(tokensPerExpert, moe.expertFfnHidden, etp);
    const shared = moe.sharedExperts > 0 ? moe.sharedExperts * mlpGemm(T, moe.sharedExpertFfnHidden ?? moe.expertFfnHidden, tp) : 0;
    // The router stays in 16-bit (Megatron-Core TopKRouter is a plain torch linear outside
    // Transformer Engine's fp8 modules; DeepSeek-V3 §3.3.1 keeps the gating module in BF16/FP32).
    const router = gemmShapeSeconds(gpu, 'bf16', T, h, moe.experts);
    // Activation and permute/unpermute traffic of the routed tokens (read + write, forward).
    const elem = memoryBoundSeconds(gpu, tokensIn * moe.topK * load * (3 * 2 * moe.expertFfnHidden / etp + 2 * 2 * 2 * h));
    moeCompute = { fwd: experts + shared + router, elem, shared, tokensIn };
  }
  return {
    mlpGemm,
    actSeconds,
    mlaUpProj,
    attnProj,
    denseMlp,
    opSacRecomputeGemms,
    attnFwd,
    attnBwd,
    attention,
    elemDense,
    elemMoeUnrouted,
    normSeconds,
    ropeSeconds,
    sharedFfnTotal,
    moe: moeCompute,
    // LM head GEMM and fp32 cross-entropy (read/write logits) on the last stage; embedding gather on the first.
    // Costed at the run's precision, although every stack keeps the LM head in 16-bit
    // (Megatron-Core's output_layer is a tensor_parallel.ColumnParallelLinear, not a Transformer
    // Engine module; torchtitan converts every nn.Linear but fqn "output"; DeepSeek-V3 §3.3.1):
    // costing it in bf16 moved CV p90 from 18.2 % to 19.6 %, because the H100 fp8 Megatron-Bridge
    // rows are predicted too slow with the fp8 curve already at its MAMF ceiling (something else
    // over-costs them; left for the GEMM-curve work).
    lmHeadFwd: gemm(T, h, model.vocab / tp) + memoryBoundSeconds(gpu, (T * model.vocab * 4 * 3) / tp),
    embedFwd: memoryBoundSeconds(gpu, T * h * 2 * 2),
    mtpProj: gemm(T, 2 * h, h / tp),
  };
}

/**
 * Dropless MoE copies each layer's per-expert token counts to the host (to size the grouped
 * GEMMs and permutation buffers), so the CPU cannot queue work ahead of the GPU: the layer's
 * kernel launches, a fixed part and a part per local expert, add to its GPU time (profile:
 * efficiency.moeHost). A full-iteration CUDA graph replays the step without the host.
 */
export function moeHostSeconds(sc: Scenario, ep: number): number {
  const moe = sc.model.moe;
  const host = sc.gpu.efficiency.moeHost;
  return moe && host && sc.plan.cudaGraphs !== 'full-iteration' ? host.perLayer + host.perLocalExpert * (moe.experts / ep) : 0;
}

/** Adam on the local shard of `localParams`: read/write fp32 master, m and v, read the fp32 grad, write bf16 weights. */
export function optimizerStepSeconds(gpu: Gpu, localParams: number): number {
  return memoryBoundSeconds(gpu, localParams * (3 * 4 * 2 + 4 + 2));
}

/**
 * HBM bytes of the fp8 quantisation of one linear's three GEMM operands over its forward and
 * backward (the forward GEMM is input[m×k] · weight[k×n]; the backward quantises grad_output[m×n]
 * and needs the transposes of all three for the data- and weight-gradient GEMMs), per element of
 * each operand, and whether the weight-gradient GEMM runs in bf16.
 *
 * torchao (Float8Linear under torch.compile): the per-kernel traffic of torchao's own roofline
 * model, torchao/testing/float8/roofline_utils.py get_tensor_memory_traffic_ovhd_s (no fusion
 * with the previous op): tensorwise (dynamic): input and grad_output: amax read 2 + one cast
 * read 2, write fp8 twice (row- and column-major) = 6; weight: amax 2 + a forward and a backward
 * cast of 3 = 8. rowwise: input and grad_output: cast + bf16 transpose (2 + 1 + 2) + cast of
 * the transpose (2 + 1) = 8; weight 3 + transpose 4 + 3 = 10. rowwise_with_gw_hp: input and
 * grad_output cast once (3), weight 3 + 3 = 6, the weight gradient in bf16. mxfp8: 2 + 2·1 = 4,
 * weight 3 + 3 = 6 (the 1/32 E8M0 scales are left out, as there).
 *
 * Transformer Engine: one fused cast-transpose kernel per operand that writes both fp8 layouts
 * (nvte_cast_transpose: read 2, write 1 + 1 = 4). Delayed scaling takes the scale from the amax
 * history and records the amax inside that kernel (TE DelayedScaling docs), so 4 per operand.
 * Current (tensorwise) scaling must know the amax before it casts: one more read of the 16-bit
 * tensor (nvte_compute_amax, then the cast; TE Float8CurrentScaling) = 6. MXFP8 and 1×128
 * blockwise scales are local to a block, computed in the cast kernel: 2 + 1 + 1 + 2/32 ≈ 4.06.
 * On GPUs whose fp8 GEMMs take every layout (Blackwell; memory.ts fp8NonTnGemm) per-tensor
 * recipes write one fp8 copy, not two: 1 byte less per operand.
 */
export interface Fp8CastTraffic {
  input: number;
  gradOutput: number;
  weight: number;
  wgradBf16: boolean;
}

export function fp8CastTraffic(plan: Pick<ResolvedPlan, 'fp8Recipe' | 'fp8Casts'>, gpu: Pick<Gpu, 'computeCapability'>): Fp8CastTraffic {
  const recipe = plan.fp8Recipe;
  const same = (b: number, wgradBf16 = false): Fp8CastTraffic => ({ input: b, gradOutput: b, weight: b, wgradBf16 });
  if (plan.fp8Casts === 'torchao') {
    if (recipe === 'rowwise') return { input: 8, gradOutput: 8, weight: 10, wgradBf16: false };
    if (recipe === 'rowwise-gw-hp') return { input: 3, gradOutput: 3, weight: 6, wgradBf16: true };
    if (recipe === 'mxfp8') return { input: 4, gradOutput: 4, weight: 6, wgradBf16: false };
    return { input: 6, gradOutput: 6, weight: 8, wgradBf16: false };
  }
  if (recipe === 'mxfp8' || recipe === 'blockwise') return same(2 + 1 + 1 + 2 / 32);
  const oneLayout = fp8NonTnGemm(gpu) ? 1 : 0;
  // rowwise in TE terms (per-row scales, no delayed history) costs as current scaling.
  return same((recipe === 'delayed' ? 4 : 6) - oneLayout);
}

/**
 * Memory-bound seconds of quantising the operands of one GEMM call of a linear: a third of the
 * linear's forward-plus-backward traffic (fp8CastTraffic), since the step model charges each
 * linear three equal GEMM calls (forward, data gradient, weight gradient). The weight's share is
 * spread over the step's micro-batches when it is cast once per step (plan.fp8WeightCast, or fp8
 * primary weights). A
 * bf16 weight-gradient GEMM (rowwise-gw-hp) adds a third of its difference to the fp8 GEMM.
 * fp4 keeps the earlier flat charge: read 2 + write 1 bytes per input and weight element per call.
 */
export function lowPrecisionCastSeconds(gpu: Gpu, plan: Pick<ResolvedPlan, 'precision' | 'fp8Recipe' | 'fp8Casts' | 'fp8WeightCast' | 'fp8PrimaryWeights' | 'numMicroBatches'>, m: number, k: number, n: number): number {
  if (plan.precision === 'bf16') return 0;
  if (plan.precision === 'fp4') return memoryBoundSeconds(gpu, 3 * (m * k + k * n));
  const t = fp8CastTraffic(plan, gpu);
  // fp8 primary weights exist only in fp8: the optimizer quantises them once per step whatever the stack.
  const weightShare = plan.fp8WeightCast === 'per-step' || plan.fp8PrimaryWeights ? 1 / Math.max(1, plan.numMicroBatches) : 1;
  const bytes = t.input * m * k + t.gradOutput * m * n + t.weight * weightShare * k * n;
  const wgrad = t.wgradBf16 ? gemmSeconds(gpu, 'bf16', 2 * m * k * n) - gemmSeconds(gpu, 'fp8', 2 * m * k * n) : 0;
  return memoryBoundSeconds(gpu, bytes / 3) + wgrad / 3;
}
