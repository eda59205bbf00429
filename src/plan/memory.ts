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
import { recomputedModules, type RecomputeModule } from '../schema/plan.js';
import { pipelineShape } from './pipeline.js';
import { planLayout, sequenceParallelDivisor } from './layout.js';

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

/** Bytes of activations one layer stores for one token on one GPU (Korthikanti Table 2, re-derived). */
export function activationBytesPerTokenLayer(
  model: ResolvedModel,
  plan: Pick<ResolvedPlan, 'tp' | 'sequenceParallel' | 'recompute' | 'attentionKernel' | 'recomputeModules'>,
  moe = false,
  mods: ReadonlySet<RecomputeModule | 'activation'> = recomputedModules(plan),
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
  const gptStyle = hasBiases(model);
  // Tensors TP does not split unless sequence parallelism is on: two norm inputs, the two
  // matmul inputs after the norms, and (GPT-style blocks) two 1-byte dropout masks.
  // MLA also keeps its low-rank latents (query and key/value down-projection outputs) for the
  // up-projections' backward; Megatron computes the down-projections on every TP rank.
  const mlaLatents = model.mla ? 2 * (model.mla.qLoraRank + model.mla.kvLoraRank + model.mla.qkRopeHeadDim) : 0;
  const replicated = 2 * h + 2 * h + 2 * h + 2 * h + (gptStyle ? 2 * h : 0) + mlaLatents;
  // Split by TP: Q, K, V (kept for flash-attention backward), the attention output (= the
  // output projection input) and the FFN activations: gate+up (or fc1) outputs and the
  // activation output, for the dense MLP, or the routed and shared experts of a MoE layer.
  // Selective recompute drops what its modules re-run (recomputedModules): layernorm the two
  // norm outputs, the activations their outputs, mla_up_proj Q/K/V (rebuilt from the stored
  // latents), mlp and shared_experts everything inside those blocks but their input.
  const acts = (f: number, dropAll: boolean, dropAct: boolean) => (dropAll ? 0 : (model.ffnType === 'swiglu' ? 2 * (2 * f) : 2 * f) + (dropAct ? 0 : 2 * f));
  const m = moe ? model.moe : null;
  const ffnActs = m
    ? acts(m.expertFfnHidden * m.topK, false, mods.has('moe_act') || mods.has('activation')) +
      acts(sharedExpertsFfnTotal(model), mods.has('shared_experts'), mods.has('activation'))
    : acts(model.ffnHidden, mods.has('mlp'), mods.has('activation'));
  const replicatedStored = mods.has('layernorm') ? replicated - 2 * h - 2 * h : replicated;
  const qkv = model.mla && mods.has('mla_up_proj') ? 0 : 2 * (w.q + w.k + w.v);
  const split = qkv + 2 * w.o + ffnActs + (moe ? 2 * h * (model.moe?.topK ?? 1) : 0);
  // Materialised attention keeps scores, softmax, dropout mask and output per head: 5·a·s bytes
  // per token (Korthikanti Table 2's 5as/h term); recomputing the attention core drops exactly this term.
  const scores = plan.attentionKernel === 'unfused' && !mods.has('core_attn') ? (5 * model.heads * model.seqLen) / t : 0;
  return replicatedStored / sp + split / t + scores;
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

/** Estimates per-GPU memory for every pipeline stage and returns the peak with its breakdown. */
export function estimateMemory(model: ResolvedModel, plan: ResolvedPlan, gpu: Gpu): MemoryEstimate {
  const { params: c, moeLayer, mtpMoe } = modelFacts(model);
  const layout = planLayout(model, plan);
  const { tp, pp, zeroStage } = plan;
  const { dpCp, expertDp, tokensPerMicroBatch, spDivisor } = layout;
  const fp8Cache = plan.precision === 'bf16' ? 0 : 1; // Transformer Engine keeps an fp8 (transposed) weight copy
  const gradBytes = plan.gradientAccumulationFp32 ? 4 : 2;
  const shard = (stage: number, group: number) => (zeroStage >= stage ? group : 1);
  const inFlight = layout.pipeline.inFlight;
  // Activation bytes per token of a layer of each kind (the per-layer loop below only sums them).
  const actDense = activationBytesPerTokenLayer(model, plan, false, layout.recomputed);
  const actMoe = model.moe ? activationBytesPerTokenLayer(model, plan, true, layout.recomputed) : actDense;
  // Working set of the layer being computed: its backward gradients, and under ZeRO-3 the
  // gathered parameters of the current and the prefetched layer.
  const layerWeights = (c.attentionPerLayer + c.denseMlpPerLayer) / tp;
  const transientBytes = activationBytesPerTokenLayer(model, { ...plan, recompute: 'none' }) * tokensPerMicroBatch * 2 + (zeroStage >= 3 ? 2 * 2 * layerWeights : 0);
  const perStage: { total: number; b: MemoryBreakdown }[] = [];
  let layerIndex = 0;
  for (let s = 0; s < pp; s++) {
    const { denseParams, expertParams } = layout.stageShards[s];
    let actPerToken = 0;
    for (let i = 0; i < plan.layersPerStage[s]; i++, layerIndex++) actPerToken += moeLayer[layerIndex] ? actMoe : actDense;
    // Gradients and optimizer state are sharded over the data-parallel group including CP ranks
    // (Megatron's data-parallel-with-CP group; torchtitan's dp_shard × cp FSDP mesh).
    const weightsBytes = (2 + fp8Cache) * (denseParams / shard(3, dpCp) + expertParams / shard(3, expertDp));
    const gradientsBytes = gradBytes * (denseParams / shard(2, dpCp) + expertParams / shard(2, expertDp));
    const optimizerBytes = 12 * (denseParams / shard(1, dpCp) + expertParams / shard(1, expertDp));
    const held = inFlight[s];
    let activationsBytes = actPerToken * tokensPerMicroBatch * held;
    if (s === 0) activationsBytes += ((2 * model.hidden) / spDivisor) * tokensPerMicroBatch * held; // embedding output
    // Last stage, one micro-batch, split by TP (vocab-parallel): bf16 logits, their fp32 copy for
    // the cross-entropy and its fp32 gradient, 10 bytes per logit (torchtitan upcasts logits
    // with .float() before the loss; Megatron's fused vocab-parallel CE also works in fp32).
    // Each MTP module computes its own logits and loss.
    const logitsBytes = s === pp - 1 ? ((2 + 4 + 4) * tokensPerMicroBatch * model.vocab * (1 + model.mtpLayers)) / tp : 0;
    // MTP modules: the block's activations plus the projection's 2h input and two norm inputs, per token.
    if (s === pp - 1 && model.mtpLayers > 0) {
      const mtpAct = (mtpMoe ? actMoe : actDense) + (2 * 2 * model.hidden + 2 * 2 * model.hidden) / spDivisor;
      activationsBytes += model.mtpLayers * mtpAct * tokensPerMicroBatch * held;
    }
    const frameworkBytes = gpu.memory.reserved;
    const allocated = weightsBytes + gradientsBytes + optimizerBytes + activationsBytes + logitsBytes + transientBytes;
    const fragmentationBytes = allocated * gpu.memory.fragmentation;
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
