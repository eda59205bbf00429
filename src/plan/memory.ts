/**
 * Per-GPU memory: model states (weights, gradients, Adam state, sharded by ZeRO stage over the
 * data-parallel group), activations (Korthikanti et al. 2022 Table 2 re-derived for the block,
 * with flash attention so no s² term), in-flight micro-batches by pipeline schedule, the
 * embedding and logits on the first and last stages, and the framework overhead from the profile.
 */
import type { ResolvedModel, ResolvedPlan } from './resolve.js';
import type { Gpu } from '../schema/system.js';
import { hasBiases, sharedExpertsFfnTotal } from '../model/params.js';
import { attentionWidths } from '../model/resolved.js';
import { modelFacts } from '../model/facts.js';
import { attentionSpanTokens, layerKindKey, layerKinds, mtpLayerKind, type LayerKind } from '../model/layers.js';
import { recomputedModules, type RecomputeModule } from '../schema/plan.js';
import { chunkLayout, heldChunksAtPeak, pipelineShape } from './pipeline.js';
import { planLayout, rankShard, sequenceParallelDivisor } from './layout.js';

export interface MemoryBreakdown {
  weightsBytes: number;
  gradientsBytes: number;
  optimizerBytes: number;
  activationsBytes: number;
  logitsBytes: number;
  transientBytes: number;
  frameworkBytes: number;
  fragmentationBytes: number;
}

export interface MemoryEstimate {
  /** Peak bytes on the most loaded GPU (the stage with the largest total). */
  perGpuBytes: number;
  capacityBytes: number;
  /** Which pipeline stage is the peak (0-based). */
  peakStage: number;
  breakdown: MemoryBreakdown;
  /** Per stage totals, to show how memory falls along the pipeline. */
  perStageBytes: number[];
  /** Micro-batches whose activations stage 0 holds at the peak. */
  inFlightMicroBatches: number;
}

/**
 * Bytes per element of a GEMM input kept for the weight gradient: under fp8 and fp4 recipes
 * Transformer Engine's Linear, LayerNormLinear and GroupedLinear save the quantized copy the
 * backward's GEMM reads, not the 16-bit tensor: 1 byte under fp8 (MXFP8's columnwise data with
 * one 1-byte E8M0 scale per 32 elements), NVFP4's 4-bit columnwise data with one 1-byte E4M3
 * scale per 16 elements under fp4.
 */
export function savedGemmInputBytes(plan: Partial<Pick<ResolvedPlan, 'precision' | 'fp8Recipe'>>): number {
  if (plan.precision === 'fp4') return 0.5 + 1 / 16;
  if (plan.precision === 'fp8') return plan.fp8Recipe === 'mxfp8' ? 1 + 1 / 32 : 1;
  return 2;
}

/** Bytes of activations one layer stores for one token on one GPU (Korthikanti Table 2, re-derived). */
export function activationBytesPerTokenLayer(
  model: ResolvedModel,
  plan: Pick<ResolvedPlan, 'tp' | 'sequenceParallel' | 'recompute' | 'attentionKernel' | 'recomputeModules'> & Partial<Pick<ResolvedPlan, 'precision' | 'fp8Recipe' | 'fp8ActivationCache'>>,
  moe = false,
  mods: ReadonlySet<RecomputeModule | 'activation'> = recomputedModules(plan),
  scoreSpanTokens: number = model.seqLen,
): number {
  const h = model.hidden;
  const t = plan.tp;
  const sp = sequenceParallelDivisor(plan);
  if (plan.recompute === 'full') return (2 * h) / sp; // only the layer input (Korthikanti: 2sbh, /t with SP)
  if (plan.recompute === 'op-sac') {
    // torchtitan op-level SAC saves the attention output and every other matmul output (of wq,
    // wk, wv, wo, w1, w3, w2 in call order: Q, V, the FFN gate and the block output) plus the
    // residual input; everything else is recomputed in the backward.
    const ffnSac = moe && model.moe ? model.moe.expertFfnHidden * model.moe.topK : model.ffnHidden;
    const w = attentionWidths(model);
    return (2 * h + 2 * h) / sp + (2 * w.q + 2 * w.v + 2 * w.o + 2 * ffnSac) / t;
  }
  const w = attentionWidths(model);
  // Dropout keeps 1-byte masks; with p = 0 PyTorch's dropout returns its input and keeps none.
  const dropout = (model.dropout ?? (hasBiases(model) ? 0.1 : 0)) > 0;
  // Tensors TP does not split unless sequence parallelism is on: two norm inputs, the two
  // matmul inputs after the norms, and (with dropout) two 1-byte dropout masks.
  // MLA also keeps its low-rank latents (query and key/value down-projection outputs) for the
  // up-projections' backward; Megatron computes the down-projections on every TP rank.
  const mlaLatents = model.mla ? 2 * (model.mla.qLoraRank + model.mla.kvLoraRank + model.mla.qkRopeHeadDim) : 0;
  const mm = savedGemmInputBytes(plan);
  const replicated = 2 * h + 2 * h + mm * h + mm * h + (dropout ? 2 * h : 0) + mlaLatents;
  // Split by TP: Q, K, V (kept for flash-attention backward), the attention output (= the
  // output projection input) and the FFN activations: gate+up (or fc1) outputs and the
  // activation output, for the dense MLP, or the routed and shared experts of a MoE layer.
  // Selective recompute drops what its modules re-run (recomputedModules): layernorm the two
  // norm outputs, the activations their outputs, mla_up_proj Q/K/V (rebuilt from the stored
  // latents), mlp and shared_experts everything inside those blocks but their input.
  // DeepSeek-V3's FP8 activation cache (§3.3.3, plan.fp8ActivationCache): the MoE SwiGLU input
  // is cached in FP8 (its output recomputed), and the attention output, which the output
  // projection's backward and the attention backward both read, is cached once in E5M6 (12 bits).
  const cache = plan.fp8ActivationCache === true && plan.precision === 'fp8';
  const acts = (f: number, dropAll: boolean, dropAct: boolean, inBytes = 2) => (dropAll ? 0 : (model.ffnType === 'swiglu' ? inBytes * (2 * f) : inBytes * f) + (dropAct ? 0 : mm * f));
  const m = moe ? model.moe : null;
  const ffnActs = m
    ? acts(m.expertFfnHidden * m.topK, false, mods.has('moe_act') || mods.has('activation'), cache ? 1 : 2) +
      acts(sharedExpertsFfnTotal(model), mods.has('shared_experts'), mods.has('activation'))
    : acts(model.ffnHidden, mods.has('mlp'), mods.has('activation'));
  const replicatedStored = mods.has('layernorm') ? replicated - mm * h - mm * h : replicated;
  const qkv = model.mla && mods.has('mla_up_proj') ? 0 : 2 * (w.q + w.k + w.v);
  // The attention kernel keeps its 16-bit output; under fp8 the output projection keeps its own quantized copy.
  const attnOut = cache ? 1.5 * w.o : 2 * w.o + (mm < 2 ? mm * w.o : 0);
  const split = qkv + attnOut + ffnActs + (moe ? mm * h * (model.moe?.topK ?? 1) : 0);
  // Materialised attention keeps softmax, dropout mask and dropout output per head: 5·a·s bytes
  // per token (Korthikanti Table 2's 5as/h term), the softmax alone (2·a·s) without dropout;
  // recomputing the attention core drops exactly this term. A chunked or sliding layer keeps
  // scores over its span only (scoreSpanTokens: layers.ts attentionSpanTokens).
  const scores = plan.attentionKernel === 'unfused' && !mods.has('core_attn') ? ((dropout ? 5 : 2) * model.heads * scoreSpanTokens) / t : 0;
  return replicatedStored / sp + split / t + scores;
}

/** Bytes per token of the gradients of one layer's FFN intermediates (gate and up, or fc1, outputs and the activation output, 16-bit; a MoE layer's routed and shared experts), split by TP. */
export function ffnGradientBytesPerToken(model: ResolvedModel, plan: Pick<ResolvedPlan, 'tp'>, moe = false): number {
  const f = moe && model.moe ? model.moe.expertFfnHidden * model.moe.topK + sharedExpertsFfnTotal(model) : model.ffnHidden;
  return ((model.ffnType === 'swiglu' ? 2 * (2 * f) : 2 * f) + 2 * f) / plan.tp;
}

/**
 * Micro-batches whose activations pipeline stage `stage` holds at its peak: the forward passes
 * started before its first backward, as the schedule the DES runs has them (pipeline.ts
 * inFlightFormula: 1F1B pp - stage, Narayanan §2.2.1; interleaved Megatron's warm-up with its
 * micro-batch group, which is pp only when pp divides m; GPipe all m).
 */
export function inFlightMicroBatches(plan: Pick<ResolvedPlan, 'pp' | 'vpp' | 'schedule' | 'numMicroBatches'>, stage = 0): number {
  return pipelineShape(plan).inFlight[stage];
}

/**
 * Peak bytes per logit of the loss on the last stage, by loss kernel. fp32-upcast: PyTorch's
 * cross_entropy on fp32 logits (torchtitan's model returns self.output(h).float() and the train
 * step deletes pred before backward): log_softmax keeps its fp32 output, and its backward holds
 * that output, the fp32 gradient nll_loss hands it and the fp32 gradient it returns, 4 + 4 + 4.
 * vocab-parallel: Megatron's VocabParallelCrossEntropy casts the bf16 logits to
 * fp32, turns that copy into the softmax in place, saves it and writes the gradient into it,
 * which autograd casts back to bf16: 4 + 2. fused: the flash-attn xentropy kernel llm-foundry's
 * MPT uses by default (loss_fn fused_crossentropy, llmfoundry/models/layers/cross_entropy_loss.py,
 * from flash-attn v1.0.9) saves the bf16 logits and a per-row log-sum-exp and returns a gradient
 * in the logits' dtype: 2 + 2.
 */
export const crossEntropyBytesPerLogit = { 'fp32-upcast': 12, 'vocab-parallel': 6, fused: 4 } as const;

/**
 * Bytes per parameter of the low-precision weight copies Transformer Engine keeps across the
 * micro-batches of a step under fp8/fp4. Per-tensor fp8 (delayed, tensorwise): the fp8 data, plus
 * its transpose where fp8 GEMMs take only the TN layout; TE's is_non_tn_fp8_gemm_supported()
 * (transformer_engine/pytorch/utils.py) is true for compute capability 10.x-11.x and 13+
 * (Blackwell), where the transpose is not kept. Block-scaled recipes (MXFP8, blockwise) keep
 * rowwise and columnwise data on every GPU, MXFP8 with one 1-byte E8M0 scale per 32 elements of
 * each; NVFP4 keeps rowwise and columnwise 4-bit data with one 1-byte E4M3 scale per 16 elements.
 */
export function lowPrecisionWeightBytes(plan: Pick<ResolvedPlan, 'precision'> & Partial<Pick<ResolvedPlan, 'fp8Recipe'>>, gpu?: Pick<Gpu, 'computeCapability'>): number {
  if (plan.precision === 'fp4') return 2 * (0.5 + 1 / 16);
  if (plan.precision !== 'fp8') return 0;
  if (plan.fp8Recipe === 'mxfp8') return 2 * (1 + 1 / 32);
  const perTensor = plan.fp8Recipe === undefined || plan.fp8Recipe === 'delayed' || plan.fp8Recipe === 'tensorwise';
  return perTensor && fp8NonTnGemm(gpu) ? 1 : 2;
}

/** TE's is_non_tn_fp8_gemm_supported(): fp8 GEMMs take every layout on compute capability 10.x-11.x and 13+ (Blackwell). */
export function fp8NonTnGemm(gpu?: Pick<Gpu, 'computeCapability'>): boolean {
  const cc = gpu?.computeCapability ?? 0;
  return (cc >= 10 && cc < 12) || cc >= 13;
}

/**
 * Share of allocated bytes the caching allocator holds beyond them (the GPU profile's calibrated
 * fragmentation); none with expandable segments, which map freed pages back into one growing
 * segment instead of leaving differently sized blocks cached (PyTorch CUDA semantics notes,
 * "expandable_segments"; an assumption that it removes all of the slack).
 */
export function allocatorSlackFraction(plan: Partial<Pick<ResolvedPlan, 'expandableSegments'>>, gpu: Pick<Gpu, 'memory'>): number {
  return plan.expandableSegments ? 0 : gpu.memory.fragmentation;
}

/**
 * Bytes per parameter a GPU keeps of each model state before ZeRO sharding. Weights: 16-bit, and
 * under fp8/fp4 the low-precision copies (lowPrecisionWeightBytes) beside the 16-bit weight, or
 * instead of it with fp8 primary weights. The embedding and the LM head (extrasWeights) stay
 * 16-bit: DeepSeek-V3 §3.3.1 keeps them in their original precision, and Megatron-Core runs them
 * outside Transformer Engine (VocabParallelEmbedding; output_layer is a tensor_parallel
 * ColumnParallelLinear), so no fp8 copy of them exists.
 * Under ZeRO-3 (PyTorch FSDP) the sharded parameter is the fp32 master itself: MixedPrecision
 * casts it to bf16 (or fp8) per gathered unit (the working set), so a GPU keeps 4 B of weights and
 * Adam's two moments, 8 B, per sharded parameter; otherwise fp32 master + two moments, 12 B.
 * Moments kept in BF16 (DeepSeek-V3 §3.3.3, plan.optimizerMoments) take 2 + 2 B instead of 4 + 4.
 */
export function stateBytesPerParam(
  plan: Pick<ResolvedPlan, 'zeroStage' | 'precision' | 'fp8PrimaryWeights' | 'gradientAccumulationFp32'> & Partial<Pick<ResolvedPlan, 'fp8Recipe' | 'optimizerMoments'>>,
  gpu?: Pick<Gpu, 'computeCapability'>,
): { weights: number; extrasWeights: number; gradients: number; optimizer: number } {
  const z3 = plan.zeroStage >= 3;
  const lp = lowPrecisionWeightBytes(plan, gpu);
  return {
    weights: z3 ? 4 : plan.precision === 'bf16' ? 2 : plan.fp8PrimaryWeights ? lp : 2 + lp,
    extrasWeights: z3 ? 4 : 2,
    gradients: plan.gradientAccumulationFp32 ? 4 : 2,
    optimizer: (z3 ? 0 : 4) + (plan.optimizerMoments === 'bf16' ? 4 : 8),
  };
}

/**
 * Per token, one layer's stored activations and the working set of its backward: what recompute
 * rematerialises (its full activations less what was stored) plus its FFN-intermediate gradients.
 * A MoE layer of a dense model is 0.
 */
export function layerActivationBytesPerToken(
  model: ResolvedModel,
  plan: Pick<ResolvedPlan, 'tp' | 'sequenceParallel' | 'recompute' | 'attentionKernel' | 'recomputeModules'> & Partial<Pick<ResolvedPlan, 'precision' | 'fp8Recipe' | 'fp8ActivationCache'>>,
  moe: boolean,
  mods: ReadonlySet<RecomputeModule | 'activation'> = recomputedModules(plan),
  scoreSpanTokens: number = model.seqLen,
): { storedBytes: number; workingBytes: number } {
  if (moe && !model.moe) return { storedBytes: 0, workingBytes: 0 };
  const storedBytes = activationBytesPerTokenLayer(model, plan, moe, mods, scoreSpanTokens);
  const workingBytes = activationBytesPerTokenLayer(model, { ...plan, recompute: 'none' }, moe, undefined, scoreSpanTokens) - storedBytes + ffnGradientBytesPerToken(model, plan, moe);
  return { storedBytes, workingBytes };
}

/**
 * Estimates per-GPU memory for every pipeline stage and returns the peak with its breakdown.
 * `group` replaces the interleaved schedule's micro-batch group (microbatchGroupToFit asks).
 */
export function estimateMemory(model: ResolvedModel, plan: ResolvedPlan, gpu: Gpu, group?: number): MemoryEstimate {
  const { params: c } = modelFacts(model);
  const layout = planLayout(model, plan);
  const { tp, pp, zeroStage } = plan;
  const { dpCp, expertDp, tokensPerMicroBatch, spDivisor } = layout;
  const bytesPerParam = stateBytesPerParam(plan, gpu);
  const shard = (stage: number, group: number) => (zeroStage >= stage ? group : 1);
  const inFlight = layout.pipeline.inFlight;
  // Parameters of one layer, gathered under ZeRO-3 for the current and the prefetched layer: 16-bit,
  // or with fp8 primary weights the low-precision copies TE builds from them (Megatron-FSDP's
  // fp8_param_gather gathers the fp8 data; lowPrecisionWeightBytes adds the transpose Hopper needs).
  const layerWeights = (c.attentionPerLayer + c.denseMlpPerLayer) / tp;
  const gatheredBytesPerParam = plan.fp8PrimaryWeights && plan.precision !== 'bf16' ? lowPrecisionWeightBytes(plan, gpu) : 2;
  const perStage: { total: number; b: MemoryBreakdown }[] = [];
  // Per token, for each layer kind (dense or MoE FFN; the attention span sets materialised
  // scores): activations stored, and the working set of its backward (what recompute
  // rematerialises plus its FFN-intermediate gradients; see transientBytes).
  const byKey = new Map<string, { storedBytes: number; workingBytes: number }>();
  const perTokenOf = (kind: LayerKind) => {
    const key = layerKindKey(kind);
    let v = byKey.get(key);
    if (!v) {
      v = layerActivationBytesPerToken(model, plan, kind.ffn === 'moe', layout.recomputed, attentionSpanTokens(kind, model.seqLen));
      byKey.set(key, v);
    }
    return v;
  };
  const perLayer: { storedBytes: number; workingBytes: number }[] = new Array(model.layers);
  for (const g of layerKinds(model)) {
    const v = perTokenOf(g.kind);
    for (const i of g.indices) perLayer[i] = v;
  }
  // Per stage and model chunk, one micro-batch: its stored activations (with CPU offload's
  // resident share, the embedding dropout mask on the first rank's first chunk and the MTP
  // modules on the last rank's last chunk), and per stage the largest layer working set (see
  // transientBytes) and the layer a CPU offload may still be copying out.
  const chunks = chunkLayout(plan.layersPerStage, layout.pipeline.vpp);
  const vpp = layout.pipeline.vpp;
  const chunkAct: number[][] = [];
  const stageWorking: number[] = [];
  const stageTransit: number[] = [];
  // Stage s holds layers stageStart .. stageStart + layersPerStage[s] − 1, as the step costs and
  // the parameter shards (layout.ts stageShards) assign layer kinds; its chunks split them in order.
  let stageStart = 0;
  for (let s = 0; s < pp; s++) {
    const row: number[] = [];
    let workingPerToken = 0;
    let transitPerToken = 0;
    for (let c = 0; c < vpp; c++) {
      const ch = chunks[s][c];
      let actPerToken = 0;
      let largest = 0;
      for (let i = 0; i < ch.numLayers; i++) {
        const l = perLayer[stageStart + ch.firstLocalLayer + i];
        actPerToken += l.storedBytes;
        largest = Math.max(largest, l.storedBytes);
        workingPerToken = Math.max(workingPerToken, l.workingBytes);
      }
      // CPU activation offload (Megatron cpu_offloading_num_layers, per model chunk, through
      // Transformer Engine's offload handler): the chunk's first layers' activations go to host
      // memory after their forward and come back for their backward; the others stay. The
      // handler frees a layer's device copy once its copy has finished, at a later layer's commit
      // (transformer_engine/pytorch/cpu_offload.py, layer_window_map: the last offloaded layer's
      // at the chunk's last layer), so one offloaded layer per rank may still be resident while
      // the chunk runs (stageTransit), not one per micro-batch held.
      const offloaded = Math.min(plan.offloadLayers, ch.numLayers);
      if (offloaded > 0) {
        actPerToken *= (ch.numLayers - offloaded) / ch.numLayers;
        transitPerToken = Math.max(transitPerToken, largest);
      }
      // The first chunk's embedding output is the first layer's input, which that layer's norm
      // keeps (counted there); with embedding dropout its 1-byte mask is kept besides
      // (Korthikanti et al. 2022 §4.3: the input-embedding dropout mask, sbh/t with SP).
      if (s === 0 && c === 0 && (model.dropout ?? (hasBiases(model) ? 0.1 : 0)) > 0) actPerToken += model.hidden / spDivisor;
      // MTP modules: the block's activations plus the projection's 2h input and two norm inputs, per token.
      if (s === pp - 1 && c === vpp - 1 && model.mtpLayers > 0) actPerToken += model.mtpLayers * (perTokenOf(mtpLayerKind(model)).storedBytes + (2 * 2 * model.hidden + 2 * 2 * model.hidden) / spDivisor);
      row.push(actPerToken * tokensPerMicroBatch);
    }
    stageStart += plan.layersPerStage[s];
    chunkAct.push(row);
    stageWorking.push(workingPerToken * tokensPerMicroBatch);
    stageTransit.push(transitPerToken * tokensPerMicroBatch);
  }
  // Bytes of stored activations at each rank's peak: per model chunk, the micro-batches the
  // schedule holds at the peak (pipeline.ts heldChunksAtPeak: Megatron's interleaved order with
  // its micro-batch group N, which decides how many of each chunk are held when chunks differ).
  const { schedule: ranSchedule, numMicroBatches: m } = layout.pipeline;
  const heldBytes = (s: number, group?: number): number => {
    const held = heldChunksAtPeak(ranSchedule, pp, vpp, m, s, chunkAct[s], group ?? layout.pipeline.group);
    let bytes = 0;
    for (let c = 0; c < vpp; c++) bytes += held[c] * chunkAct[s][c];
    return bytes;
  };
  const stageAct = chunkAct.map((row) => row.reduce((a, b) => a + b, 0));
  // Under DualPipe rank s runs stage s for the micro-batches fed from one end and stage pp − 1 − s
  // for those fed from the other (DeepSeek-V3 §3.2.1): its in-flight micro-batches hold each
  // stage's activations as many times as that direction has in flight there (pipeline.ts
  // dualPipeHeld), and it computes the loss of the micro-batches whose last stage it holds.
  const twins = layout.pipeline.parameterCopies > 1;
  const dual = layout.pipeline.dualPipeHeld;
  for (let s = 0; s < pp; s++) {
    const twin = pp - 1 - s;
    const { denseParams, expertParams } = rankShard(layout, s);
    // Gradients and optimizer state are sharded over the data-parallel group including CP ranks
    // (Megatron's data-parallel-with-CP group; torchtitan's dp_shard × cp FSDP mesh).
    const extras = layout.extrasParams[s] + (twins ? layout.extrasParams[twin] : 0);
    const weightsBytes = bytesPerParam.weights * ((denseParams - extras) / shard(3, dpCp) + expertParams / shard(3, expertDp)) + (bytesPerParam.extrasWeights * extras) / shard(3, dpCp);
    const gradientsBytes = bytesPerParam.gradients * (denseParams / shard(2, dpCp) + expertParams / shard(2, expertDp));
    const optimizerBytes = bytesPerParam.optimizer * (denseParams / shard(1, dpCp) + expertParams / shard(1, expertDp));
    // The loss's logits (last stage), one micro-batch, split by TP (vocab-parallel). Each MTP module computes its own logits and loss.
    const hasLoss = s === pp - 1 || (twins && twin === pp - 1);
    const logitsBytes = hasLoss ? (crossEntropyBytesPerLogit[plan.crossEntropy] * tokensPerMicroBatch * model.vocab * (1 + model.mtpLayers)) / tp : 0;
    // An offloaded layer still being copied out is freed at the last layer's commit, before the
    // loss: on the loss stage it adds only what it exceeds the logits by.
    const transitBytes = Math.max(stageTransit[s], twins ? stageTransit[twin] : 0);
    const activationsBytes = (dual ? dual[s].own * stageAct[s] + dual[s].twin * stageAct[twin] : heldBytes(s, group)) + (hasLoss ? Math.max(0, transitBytes - logitsBytes) : transitBytes);
    // Working set of the layer in its backward: what recompute rematerialises of one layer
    // (its full activations less what was stored; Chen et al. 2016 §3: the peak holds the
    // checkpoints plus one segment) and the gradients of its FFN intermediates, the largest
    // live gradients (same shapes as the intermediates; autograd frees each saved tensor once
    // its node has run, so nothing else accumulates). The loss's logits are freed before the
    // last layer's backward starts, so on the last stage only the part above them adds. Under
    // ZeRO-3 the gathered parameters of the current and the prefetched layer come on top.
    const layerWorkingBytes = twins ? Math.max(stageWorking[s], stageWorking[twin]) : stageWorking[s];
    const transientBytes = Math.max(0, layerWorkingBytes - logitsBytes) + (zeroStage >= 3 ? 2 * gatheredBytesPerParam * layerWeights : 0);
    const frameworkBytes = gpu.memory.reserved;
    const allocated = weightsBytes + gradientsBytes + optimizerBytes + activationsBytes + logitsBytes + transientBytes;
    const fragmentationBytes = allocated * allocatorSlackFraction(plan, gpu);
    const b = { weightsBytes, gradientsBytes, optimizerBytes, activationsBytes, logitsBytes, transientBytes, frameworkBytes, fragmentationBytes };
    perStage.push({ total: allocated + frameworkBytes + fragmentationBytes, b });
  }
  let peakStage = 0;
  for (let s = 1; s < pp; s++) if (perStage[s].total > perStage[peakStage].total) peakStage = s;
  return {
    perGpuBytes: perStage[peakStage].total,
    capacityBytes: gpu.hbm.capacity,
    peakStage,
    breakdown: perStage[peakStage].b,
    perStageBytes: perStage.map((p) => p.total),
    inFlightMicroBatches: inFlight[0],
  };
}

/**
 * The largest micro-batch group N (Megatron's microbatch_group_size_per_vp_stage; Llama 3
 * §3.3.2's "N", which its schedule lets be set freely) under which an interleaved plan that does
 * not fit would fit: fewer micro-batches per group hold fewer warm-up forwards ((vpp − 1)·N of
 * them). Megatron accepts N only in [pp, m], so an N below pp names a schedule Megatron does not
 * run (Llama 3's does, with dependency bubbles). Null when the plan fits, is not interleaved, or
 * no N fits.
 */
export function microbatchGroupToFit(model: ResolvedModel, plan: ResolvedPlan, gpu: Gpu): number | null {
  const shape = planLayout(model, plan).pipeline;
  if (shape.schedule !== 'interleaved-1f1b' || shape.vpp === 1) return null;
  if (estimateMemory(model, plan, gpu).perGpuBytes <= gpu.hbm.capacity) return null;
  // Held micro-chunks grow with N (the warm-up holds (vpp − 1)·N of them): bisect for the largest N that fits.
  const fits = (n: number) => estimateMemory(model, plan, gpu, n).perGpuBytes <= gpu.hbm.capacity;
  if (!fits(1)) return null;
  let lo = 1;
  let hi = shape.group - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
