/**
 * Durations of the ops of one training step on one GPU of each pipeline stage: compute per
 * micro-batch (forward, backward-input, backward-weight, recompute), the TP/CP/EP collectives
 * inside each layer, PP sends, DP collectives and the optimizer. Both step engines (closed form
 * and discrete-event) consume these, so they agree on the primitives and differ only in how
 * the ops are scheduled.
 */
import type { Scenario } from '../plan/resolve.js';
import { countParams, isMoeLayer, sharedExpertsFfnTotal } from '../model/params.js';
import { attentionWidths } from '../model/resolved.js';
import { recomputedModules } from '../schema/plan.js';
import { stageParams } from '../plan/memory.js';
import { gemmSeconds, attentionSeconds, memoryBoundSeconds } from '../system/compute.js';
import { placeGroup, type GroupPlacement } from '../system/topology.js';
import { collectiveSeconds, p2pSeconds } from '../system/collectives.js';

/** One layer's work for one micro-batch on one GPU, in seconds. */
export interface LayerCost {
  moe: boolean;
  forwardSeconds: number;
  /** Backward w.r.t. inputs (dgrad GEMMs, attention backward, elementwise). */
  backwardInputSeconds: number;
  /** Backward w.r.t. weights (wgrad GEMMs); separable for zero-bubble schedules. */
  backwardWeightSeconds: number;
  /** Extra forward work re-run before the backward (selective or full recompute). */
  recomputeSeconds: number;
  /** GEMM time a TP collective can hide behind when TP overlap is on. */
  overlappableGemmSeconds: number;
  tpForwardCommSeconds: number;
  tpBackwardCommSeconds: number;
  cpForwardCommSeconds: number;
  cpBackwardCommSeconds: number;
  epForwardCommSeconds: number;
  epBackwardCommSeconds: number;
  /** Attention compute a ring-CP exchange can hide behind. */
  attentionForwardSeconds: number;
  attentionBackwardSeconds: number;
}

export interface StageCost {
  stage: number;
  layers: LayerCost[];
  /** Embedding (first stage) and LM head + loss (last stage) per micro-batch. */
  extraForwardSeconds: number;
  extraBackwardSeconds: number;
  /** Parameters held on one GPU of this stage (before ZeRO sharding). */
  denseParams: number;
  expertParams: number;
}

export interface DpCost {
  /** Per step (ZeRO 0-2): gradient reduce-scatter (or all-reduce at ZeRO 0) and parameter all-gather. */
  gradientSeconds: number;
  paramGatherSeconds: number;
  /** Per micro-batch under ZeRO-3: parameter all-gathers (forward and backward) and gradient reduce-scatter. */
  perMicroBatch: boolean;
  placement: GroupPlacement;
}

export interface StepCosts {
  stages: StageCost[];
  /** One activation send between neighbouring stages (one direction, one micro-batch, one chunk). */
  ppSendSeconds: number;
  /** The same send between two stages that share a node (NVLink), for pipelines that span nodes only in part. */
  ppSendSecondsSameNode: number;
  ppCrossesNodes: boolean;
  /** DP collectives of the slowest stage, and the optimizer step. */
  dp: DpCost[];
  optimizerSeconds: number[];
  placements: Record<'tp' | 'cp' | 'pp' | 'dp' | 'ep', GroupPlacement>;
  numMicroBatches: number;
  tokensPerMicroBatchPerGpu: number;
}

/** Builds the op costs of one step for a resolved scenario. */
export function stepCosts(sc: Scenario): StepCosts {
  const { model, plan, gpu, node, fabric } = sc;
  const { tp, cp, pp, dp, ep, etp, microBatch } = plan;
  const precision = plan.precision;
  const c = countParams(model);
  const h = model.hidden;
  const s = model.seqLen;
  const w = attentionWidths(model);
  const T = (microBatch * s) / cp; // tokens of one micro-batch on one GPU
  const spDiv = plan.sequenceParallel ? tp : 1;
  const gpus = sc.cluster.gpus;

  const placements = {
    tp: placeGroup({ size: tp, stride: 1, concurrentGroups: gpus / tp }, node, fabric),
    cp: placeGroup({ size: cp, stride: tp, concurrentGroups: gpus / cp }, node, fabric),
    pp: placeGroup({ size: pp, stride: tp * cp, concurrentGroups: gpus / pp }, node, fabric),
    // Gradients are reduced over DP·CP (CP ranks hold the same weights); the group's widest
    // spread is the DP stride, and CP ranks next to each other share a node.
    dp: (() => {
      const p = placeGroup({ size: dp, stride: tp * cp * pp, concurrentGroups: gpus / dp }, node, fabric);
      if (cp === 1) return p;
      const c = placeGroup({ size: cp, stride: tp, concurrentGroups: gpus / cp }, node, fabric);
      const membersPerNode = p.membersPerNode * c.membersPerNode;
      return { ...p, size: dp * cp, membersPerNode, nodes: Math.ceil((dp * cp) / membersPerNode) };
    })(),
    ep: placeGroup({ size: ep, stride: etp, concurrentGroups: gpus / ep }, node, fabric),
  };

  // fp8/fp4 GEMMs first cast their bf16 input (read 2 B, write 1 B per element) and weight; the
  // casts are memory-bound kernels (Transformer Engine quantises activations per GEMM call).
  const castBytesPerElement = precision === 'bf16' ? 0 : 3;
  const gemm = (m: number, k: number, n: number) => gemmSeconds(gpu, precision, 2 * m * k * n) + (castBytesPerElement ? memoryBoundSeconds(gpu, castBytesPerElement * (m * k + k * n)) : 0);
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
  const attnFlops = (2 * microBatch * s * s * (model.heads / tp) * (model.qkHeadDim + model.vHeadDim) * 0.5) / cp;
  let attnFwd: number;
  let attnBwd: number;
  if (plan.attentionKernel === 'unfused') {
    // Materialised attention (Megatron 2022): full (not causal) QKᵀ and AV as batched GEMMs, then
    // softmax, mask and dropout over b·a·s² 16-bit scores in HBM. Bytes per score, forward: QKᵀ
    // writes 2, softmax reads 2 and writes 2, dropout reads 2 and writes 2 plus a 1-byte mask, AV
    // reads 2 (13). Backward: the AV gradient reads the dropout output 2 and writes 2, dropout
    // reads 2 + mask 1 and writes 2, softmax reads 2 + its output 2 and writes 2, QKᵀ's gradient
    // reads 2 (21).
    const scores = (microBatch * (model.heads / tp) * s * s) / cp;
    const bmm = gemmSeconds(gpu, 'bf16', 2 * attnFlops);
    attnFwd = bmm + memoryBoundSeconds(gpu, 13 * scores);
    attnBwd = 2 * bmm + memoryBoundSeconds(gpu, 21 * scores);
  } else {
    attnFwd = attentionSeconds(gpu, attnFlops, 'forward', plan.attentionKernel);
    // Flash-attention backward does 2.5× the forward FLOPs (it recomputes QKᵀ; Dao 2023 §3).
    attnBwd = attentionSeconds(gpu, 2.5 * attnFlops, 'backward', plan.attentionKernel);
  }
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
  // experts' activation and permutation traffic are in moeLayer.elem).
  const sharedFfnTotal = sharedExpertsFfnTotal(model);
  const elemMoeUnrouted = memoryBoundSeconds(gpu, elementwiseBytes(sharedFfnTotal, tp));
  // Pieces that Megatron's recompute_modules re-run (plan.recomputeModules).
  const normSeconds = memoryBoundSeconds(gpu, (T * 2 * normBytesPerElement * h) / spDiv);
  const ropeSeconds = memoryBoundSeconds(gpu, T * ropeBytes);
  const actSeconds = (tokens: number, ffn: number, shard: number) => memoryBoundSeconds(gpu, tokens * activationBytesPerElement * (ffn / shard));

  const actBytes = T * h * 2;
  const tpComm = (() => {
    if (tp === 1) return 0;
    // Megatron: per layer and direction two all-reduces, or with SP two all-gathers and two reduce-scatters (same volume).
    return plan.sequenceParallel
      ? 2 * collectiveSeconds(node, placements.tp, 'all-gather', actBytes) + 2 * collectiveSeconds(node, placements.tp, 'reduce-scatter', actBytes)
      : 2 * collectiveSeconds(node, placements.tp, 'all-reduce', actBytes);
  })();
  // CP: Llama 3 all-gathers K and V (forward) and reduce-scatters their gradients (backward).
  const kvBytes = ((microBatch * s * (w.k + w.v)) / Math.min(tp, model.kvHeads)) * 2;
  const cpComm = cp === 1 ? 0 : plan.cpMethod === 'allgather' ? collectiveSeconds(node, placements.cp, 'all-gather', kvBytes) : (cp - 1) * p2pSeconds(node, placements.cp.nodes <= 1, kvBytes / cp);

  const moe = model.moe;
  let moeLayer: { fwd: number; elem: number; gemmTotal: number; epComm: number; shared: number } | null = null;
  if (moe) {
    // Megatron's token dispatcher works on the sequence-parallel shard: with expert-TP etp < tp
    // each rank routes T·etp/tp tokens and holds whole (etp-split) experts.
    const tokensIn = (T * etp) / tp;
    const tokensPerExpert = (tokensIn * moe.topK * ep) / moe.experts;
    const expertsLocal = moe.experts / ep;
    // Grouped GEMMs tile each expert's problem separately, so efficiency follows the per-expert
    // size (tokens routed to one expert), not the size of the whole group.
    const experts = expertsLocal * mlpGemm(tokensPerExpert, moe.expertFfnHidden, etp);
    const shared = moe.sharedExperts > 0 ? moe.sharedExperts * mlpGemm(T, moe.sharedExpertFfnHidden ?? moe.expertFfnHidden, tp) : 0;
    const router = gemm(T, h, moe.experts);
    // Activation and permute/unpermute traffic of the routed tokens (read + write, forward).
    const elem = memoryBoundSeconds(gpu, tokensIn * moe.topK * (3 * 2 * moe.expertFfnHidden / etp + 2 * 2 * 2 * h));
    // Dispatch and combine: each token's hidden state goes to topK experts and comes back.
    const a2aBytes = tokensIn * moe.topK * h * 2;
    const epComm = ep > 1 ? 2 * collectiveSeconds(node, placements.ep, 'all-to-all', a2aBytes) : 0;
    moeLayer = { fwd: experts + shared + router, elem, gemmTotal: experts + shared + router, epComm, shared };
  }

  // Dropless MoE copies each layer's per-expert token counts to the host (to size the grouped
  // GEMMs and permutation buffers), so the CPU cannot queue work ahead of the GPU: the layer's
  // kernel launches, a fixed part and a part per local expert, add to its GPU time (profile:
  // efficiency.moeHost). Backward launches twice the forward's kernels (data and weight
  // gradients). A full-iteration CUDA graph replays the step without the host.
  const host = gpu.efficiency.moeHost;
  const moeHostSeconds = moe && host && plan.cudaGraphs !== 'full-iteration' ? host.perLayer + host.perLocalExpert * (moe.experts / ep) : 0;

  const gradBytes = plan.gradReduceFp32 ? 4 : 2;
  const layerCost = (isMoe: boolean): LayerCost => {
    const mlp = isMoe && moeLayer ? moeLayer.fwd : denseMlp;
    const elem = isMoe && moeLayer ? elemMoeUnrouted + moeLayer.elem : elemDense;
    const gemms = attnProj + mlp;
    const forward = gemms + attnFwd + elem;
    // Selective recompute re-runs its modules' forward (recomputedModules): by default the
    // attention core when scores are materialised (Korthikanti 2022), else the norms and the FFN
    // activations.
    const mods = recomputedModules(plan);
    const sharedFfn = isMoe ? sharedFfnTotal : 0;
    const routedAct = isMoe && moe ? actSeconds(((T * etp) / tp) * moe.topK, moe.expertFfnHidden, etp) : 0;
    const unroutedAct = isMoe ? (sharedFfn > 0 ? actSeconds(T, sharedFfn, tp) : 0) : actSeconds(T, model.ffnHidden, tp);
    const selective =
      (mods.has('core_attn') ? attnFwd : 0) +
      (mods.has('layernorm') ? normSeconds : 0) +
      (mods.has('activation') ? routedAct + unroutedAct : mods.has('moe_act') ? routedAct : 0) +
      (mods.has('mla_up_proj') && mla ? mlaUpProj + ropeSeconds : 0) +
      (mods.has('mlp') && !isMoe ? denseMlp + unroutedAct : 0) +
      (mods.has('shared_experts') && isMoe && moeLayer && sharedFfn > 0 ? moeLayer.shared + unroutedAct : 0);
    const recompute =
      plan.recompute === 'full' ? forward
      : plan.recompute === 'selective' ? selective
      : plan.recompute === 'op-sac' ? elem + opSacRecomputeGemms
      : 0;
    const fullRecomputeComm = plan.recompute === 'full' ? 1 : 0;
    const ep = isMoe && moeLayer ? moeLayer.epComm : 0;
    const backward = gemms + attnBwd + 2 * elem;
    // Communication that overlaps compute still slows it: NCCL kernels take SMs and HBM
    // bandwidth from the GEMMs they run beside (profile: efficiency.overlapSlowdown). The
    // overlapped collectives inside a layer are ZeRO-3's per-layer parameter gathers and
    // gradient reduce-scatters, and TP collectives when TP overlap is on.
    const slow = gpu.efficiency.overlapSlowdown;
    let forwardExtra = 0;
    let backwardExtra = 0;
    if (plan.zeroStage >= 3 && plan.overlap.dp && dp > 1) {
      const layerParams = (c.attentionPerLayer + (isMoe ? c.sharedExpertsPerLayer + c.routerPerLayer : c.denseMlpPerLayer)) / tp;
      const gather = collectiveSeconds(node, placements.dp, 'all-gather', layerParams * 2);
      const reduce = collectiveSeconds(node, placements.dp, 'reduce-scatter', layerParams * gradBytes);
      forwardExtra += slow * Math.min(gather, forward);
      backwardExtra += slow * Math.min(gather + reduce, backward);
    }
    if (plan.overlap.tp && tp > 1) {
      forwardExtra += slow * Math.min(tpComm, gemms);
      backwardExtra += slow * Math.min(tpComm * (1 + fullRecomputeComm), 2 * gemms);
    }
    // EP overlap: the backward's all-to-alls run beside the paired micro-batch's forward, the
    // forward's beside its backward.
    if (plan.overlap.ep && ep > 0) {
      forwardExtra += slow * Math.min(ep * (1 + fullRecomputeComm), forward);
      backwardExtra += slow * Math.min(ep, backward);
    }
    const hostSeconds = isMoe ? moeHostSeconds : 0;
    return {
      moe: isMoe,
      forwardSeconds: forward + forwardExtra + hostSeconds / 3,
      backwardInputSeconds: backward + backwardExtra + (2 * hostSeconds) / 3,
      backwardWeightSeconds: gemms,
      recomputeSeconds: recompute,
      overlappableGemmSeconds: gemms,
      tpForwardCommSeconds: tpComm,
      tpBackwardCommSeconds: tpComm * (1 + fullRecomputeComm),
      cpForwardCommSeconds: cpComm,
      cpBackwardCommSeconds: cpComm * (1 + fullRecomputeComm),
      epForwardCommSeconds: ep,
      epBackwardCommSeconds: ep * (1 + fullRecomputeComm),
      attentionForwardSeconds: attnFwd,
      attentionBackwardSeconds: attnBwd,
    };
  };
  const denseLayerCost = layerCost(false);
  const moeLayerCost = moe ? layerCost(true) : denseLayerCost;

  // LM head GEMM and fp32 cross-entropy (read/write logits) on the last stage; embedding gather on the first.
  const lmHeadFwd = gemm(T, h, model.vocab / tp) + memoryBoundSeconds(gpu, (T * model.vocab * 4 * 3) / tp);
  const embedFwd = memoryBoundSeconds(gpu, T * h * 2 * 2);

  const params = stageParams(model, plan);
  const stages: StageCost[] = [];
  let layerIndex = 0;
  for (let st = 0; st < pp; st++) {
    const layers: LayerCost[] = [];
    for (let i = 0; i < plan.layersPerStage[st]; i++, layerIndex++) layers.push(isMoeLayer(model, layerIndex) ? moeLayerCost : denseLayerCost);
    let extraF = 0;
    let extraB = 0;
    if (st === 0) {
      extraF += embedFwd;
      extraB += embedFwd;
    }
    if (st === pp - 1) {
      extraF += lmHeadFwd;
      extraB += 2 * lmHeadFwd;
      // MTP modules (DeepSeek-V3 §2.2) run after the last layer on this stage: the 2h→h
      // projection, one block of the last layer's kind with its collectives in line, and the
      // shared LM head with its loss again.
      if (model.mtpLayers > 0) {
        const block = isMoeLayer(model, model.layers - 1) ? moeLayerCost : denseLayerCost;
        const proj = gemm(T, 2 * h, h / tp);
        const fwd = proj + block.forwardSeconds + block.tpForwardCommSeconds + block.epForwardCommSeconds + block.cpForwardCommSeconds + lmHeadFwd;
        const bwd = 2 * proj + block.backwardInputSeconds + block.backwardWeightSeconds + block.recomputeSeconds + block.tpBackwardCommSeconds + block.epBackwardCommSeconds + block.cpBackwardCommSeconds + 2 * lmHeadFwd;
        extraF += model.mtpLayers * fwd;
        extraB += model.mtpLayers * bwd;
      }
    }
    stages.push({ stage: st, layers, extraForwardSeconds: extraF, extraBackwardSeconds: extraB, ...params[st] });
  }

  // PP: one activation tensor per micro-batch and chunk boundary (Narayanan §4.1: b·s·h, /t with SP).
  const ppBytes = (T * h * 2) / spDiv;
  const ppCrossesNodes = placements.pp.nodes > 1;
  const ppSendSeconds = pp > 1 ? p2pSeconds(node, !ppCrossesNodes, ppBytes) : 0;
  const ppSendSecondsSameNode = pp > 1 ? p2pSeconds(node, true, ppBytes) : 0;

  const expertDp = Math.max(1, (tp * cp * dp) / (ep * etp));
  const edpPlacement = placeGroup({ size: expertDp, stride: Math.max(1, gpus / expertDp / pp), concurrentGroups: gpus / expertDp }, node, fabric);
  const dpCosts: DpCost[] = [];
  const optimizerSeconds: number[] = [];
  for (const st of stages) {
    const dense = st.denseParams;
    const expert = st.expertParams;
    const zero = plan.zeroStage;
    const grad = (kind: 'all-reduce' | 'reduce-scatter') =>
      collectiveSeconds(node, placements.dp, kind, dense * gradBytes) + collectiveSeconds(node, edpPlacement, kind, expert * gradBytes);
    const gather = collectiveSeconds(node, placements.dp, 'all-gather', dense * 2) + collectiveSeconds(node, edpPlacement, 'all-gather', expert * 2);
    dpCosts.push({
      gradientSeconds: zero === 0 ? grad('all-reduce') : grad('reduce-scatter'),
      paramGatherSeconds: zero === 0 ? 0 : gather,
      perMicroBatch: zero >= 3,
      placement: placements.dp,
    });
    // Adam on the local shard: read/write fp32 master, m and v, read the fp32 grad, write bf16 weights.
    const localParams = dense / (zero >= 1 ? dp * cp : 1) + expert / (zero >= 1 ? expertDp : 1);
    optimizerSeconds.push(memoryBoundSeconds(gpu, localParams * (3 * 4 * 2 + 4 + 2)));
  }

  return {
    stages,
    ppSendSeconds,
    ppSendSecondsSameNode,
    ppCrossesNodes,
    dp: dpCosts,
    optimizerSeconds,
    placements,
    numMicroBatches: plan.numMicroBatches,
    tokensPerMicroBatchPerGpu: T,
  };
}
