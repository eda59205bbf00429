/**
 * FLOPs per token. Convention: matmul FLOPs only (2 per multiply-add), forward + backward = 3×
 * forward (PaLM App. B), attention counted causally (half of PaLM's 12·L·H·Q·T, as Megatron-LM's
 * num_floating_point_operations does with s/2), LM head included, embedding lookup excluded.
 */
import type { ResolvedModel } from './resolved.js';
import type { Plan } from '../schema/plan.js';
import { hasBiases, layerParams, mlaNormParams, mlaUpProjectionParams, mlpParams, sinkParams } from './params.js';
import { modelFacts } from './facts.js';
import { attendedKeysPerQuery, layerKind, mtpLayerKind, type LayerKind } from './layers.js';
import { recomputedModules } from '../schema/plan.js';
import { attentionWidths } from './resolved.js';

export interface FlopsPerToken {
  /** Model FLOPs per token for forward + backward (the MFU numerator). */
  model: number;
  /** Same with full (non-causal) attention, PaLM's convention: model + attentionCausal (chunked and sliding layers: non-causal inside their chunk or window). */
  modelFullAttention: number;
  /** Hardware FLOPs per token: model plus recomputed forward work (the HFU numerator). */
  hardware: number;
  /** Forward matmul FLOPs per token outside attention scores (2 · active matmul weights). */
  forwardDense: number;
  /** Forward attention-score FLOPs per token, causal (QKᵀ and AV). */
  forwardAttention: number;
}

/** Weights that take part in matmuls for one token (active experts, LM head; no embedding lookup, no norms). */
export function activeMatmulParams(model: ResolvedModel): number {
  const c = modelFacts(model).params;
  const embeddingLookup = model.vocab * model.hidden + (model.positionEmbedding === 'learned' ? model.seqLen * model.hidden : 0);
  // The LM head is a matmul even when tied to the embedding; each MTP module runs it again.
  const mtp = model.mtpLayers;
  const lmHeadMatmul = model.vocab * model.hidden * (1 + mtp);
  // Norm gains (and biases): two per block and the final one; an MTP module has five.
  // Sink logits (one per head and layer) join a softmax, not a matmul.
  const norms = (model.ffnType === 'gelu' ? 2 : 1) * model.hidden * (2 * model.layers + 1 + 5 * mtp) + (mlaNormParams(model) + sinkParams(model)) * (model.layers + mtp);
  return c.active - embeddingLookup - c.lmHead + lmHeadMatmul - norms;
}

/**
 * Attention-score FLOPs (QKᵀ and AV) of one token's forward pass through one layer of this kind:
 * 2 FLOPs × attended keys × heads·(qkHeadDim + vHeadDim), the attended keys averaged causally
 * (layers.ts attendedKeysPerQuery: seqLen/2 for full attention, the chunk or window when shorter).
 * Sinks add one logit per head to the softmax denominator: no matmul FLOPs.
 */
export function forwardAttentionFlopsPerLayerToken(model: ResolvedModel, kind: LayerKind, seqLen: number = model.seqLen): number {
  return 2 * attendedKeysPerQuery(kind, seqLen) * model.heads * (model.qkHeadDim + model.vHeadDim);
}

/** Attention-score FLOPs of one token's forward pass over a sequence of seqLen, all layers and MTP blocks, each by its kind. */
export function forwardAttentionFlopsPerToken(model: ResolvedModel): number {
  // Without attention kinds: (layers + mtp) · 2 · (s/2) · heads · (qk + v), with qk = v = headDim
  // 2·2·s·heads·headDim·0.5 (PaLM's 12·L·H·Q·T per token for fwd+bwd, halved by the causal mask).
  // Attention FLOPs depend on the attention pattern only, so count layers per pattern entry (layer
  // i uses entry i mod P) instead of grouping all kinds: this runs in every evaluation's hot path.
  const mtp = model.mtpLayers * forwardAttentionFlopsPerLayerToken(model, mtpLayerKind(model));
  const period = model.attention?.pattern.length ?? 1;
  let sum = mtp;
  for (let j = 0; j < period; j++) sum += Math.ceil((model.layers - j) / period) * forwardAttentionFlopsPerLayerToken(model, layerKind(model, j));
  return sum;
}

/**
 * Router FLOPs per token of one MoE layer's forward pass: the router is a hidden × experts matmul
 * (Switch Transformer, Fedus et al. 2021 §2.1: logits h(x) = W_r·x; DeepSeek-V3 §2.1.2 the same
 * shape with sigmoid affinities), counted at 2 FLOPs per multiply-add like every weight (the 2N
 * per token of Kaplan et al. 2020 §2.1 over all matmul weights). Already inside activeMatmulParams
 * (countParams' routerPerLayer). Megatron-LM's num_floating_point_operations leaves the router out;
 * it is 0.3 % of DeepSeek-V3's forward FLOPs. Softmax/top-k selection is not a matmul: not counted.
 */
export function routerForwardFlopsPerToken(model: ResolvedModel): number {
  return model.moe ? 2 * model.hidden * model.moe.experts : 0;
}

export interface LayerForwardFlops {
  /** Matmul FLOPs per token outside attention scores: 2 · the layer's active matmul weights (router included, norms and sinks excluded). */
  matmul: number;
  /** Attention-score FLOPs per token (forwardAttentionFlopsPerLayerToken). */
  attention: number;
}

/** Forward FLOPs per token of one layer of this kind; Σ over layers + LM head (+ MTP extras) = flopsPerToken's forwardDense + forwardAttention (tested). */
export function layerForwardFlopsPerToken(model: ResolvedModel, kind: LayerKind, seqLen: number = model.seqLen): LayerForwardFlops {
  const p = layerParams(model, kind);
  const normsPerLayer = 2 * (model.ffnType === 'gelu' ? 2 : 1) * model.hidden + mlaNormParams(model) + sinkParams(model);
  return { matmul: 2 * (p.active - normsPerLayer), attention: forwardAttentionFlopsPerLayerToken(model, kind, seqLen) };
}

/** FLOPs per token for training, model and hardware (with recompute). */
export function flopsPerToken(model: ResolvedModel, recompute: Plan['recompute'] = 'none', attentionKernel: Plan['attentionKernel'] = 'flash', recomputeModules?: Plan['recomputeModules']): FlopsPerToken {
  const forwardDense = 2 * activeMatmulParams(model);
  const forwardAttention = forwardAttentionFlopsPerToken(model);
  const modelFlops = 3 * (forwardDense + forwardAttention);
  // Korthikanti 2022 eq. 8: selective recompute re-runs the attention core (materialised scores);
  // with fused attention it re-runs only elementwise ops (no matmul FLOPs); full re-runs the forward.
  const d = model.hidden;
  const w = attentionWidths(model);
  const opSac = 2 * model.layers * (d * w.k + w.o * d + d * model.ffnHidden);
  // Selective: the matmuls of the recomputed modules (recomputedModules); the norm and activation
  // modules re-run no matmul.
  const mods = recomputedModules({ recompute, recomputeModules, attentionKernel });
  const c = modelFacts(model).params;
  const selective =
    (mods.has('core_attn') ? forwardAttention : 0) +
    (mods.has('mla_up_proj') ? 2 * mlaUpProjectionParams(model) * (model.layers + model.mtpLayers) : 0) +
    (mods.has('mlp') ? 2 * mlpParams(d, model.ffnHidden, model.ffnType, hasBiases(model)) * c.denseLayers : 0) +
    (mods.has('shared_experts') ? 2 * c.sharedExpertsPerLayer * c.moeLayers : 0);
  const recomputed =
    recompute === 'full' ? forwardDense + forwardAttention
    : recompute === 'selective' ? selective
    : recompute === 'op-sac' ? opSac
    : 0;
  return {
    model: modelFlops,
    modelFullAttention: modelFlops + 3 * forwardAttention,
    hardware: modelFlops + recomputed,
    forwardDense,
    forwardAttention,
  };
}
