/**
 * FLOPs per token. Convention: matmul FLOPs only (2 per multiply-add), forward + backward = 3×
 * forward (PaLM App. B), attention counted causally (half of PaLM's 12·L·H·Q·T, as Megatron-LM's
 * num_floating_point_operations does with s/2), LM head included, embedding lookup excluded.
 */
import type { ResolvedModel } from './resolved.js';
import type { Plan } from '../schema/plan.js';
import { hasBiases, mlaNormParams, mlaUpProjectionParams, mlpParams } from './params.js';
import { modelFacts } from './facts.js';
import { recomputedModules } from '../schema/plan.js';
import { attentionWidths } from './resolved.js';

export interface FlopsPerToken {
  /** Model FLOPs per token for forward + backward (the MFU numerator). */
  model: number;
  /** Same with full (non-causal) attention, PaLM's convention: model + attentionCausal. */
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
  const norms = (model.ffnType === 'gelu' ? 2 : 1) * model.hidden * (2 * model.layers + 1 + 5 * mtp) + mlaNormParams(model) * (model.layers + mtp);
  return c.active - embeddingLookup - c.lmHead + lmHeadMatmul - norms;
}

/** Causal attention-score FLOPs of one token's forward pass over a sequence of seqLen (all layers). */
export function forwardAttentionFlopsPerToken(model: ResolvedModel): number {
  // QKᵀ (2 FLOPs × seqLen × heads·qkHeadDim) and AV (2 × seqLen × heads·vHeadDim), halved by the
  // causal mask; with qkHeadDim = vHeadDim = headDim this is 2·2·s·heads·headDim·0.5.
  return (model.layers + model.mtpLayers) * 2 * model.seqLen * model.heads * (model.qkHeadDim + model.vHeadDim) * 0.5;
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
